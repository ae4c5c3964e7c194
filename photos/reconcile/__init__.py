"""Reconciling a project's folder with its photo rows (SPEC §6): the per-project maintenance
steps, one module per job type.

- ``trash`` (``trash_maintenance``): ``trash_purge`` purges ``.trash/`` entries older than the
  TTL, counted from the moment they were trashed.
- ``availability`` (``manifest_check``): ``manifest_check`` writes a missing, unreadable or
  wrong ``.project.yaml`` and sets availability (and ``ext``) from disk. Never touches keep
  flags.
- ``arrivals`` (``folder_check``): ``folder_check`` creates rows for base names found on disk
  (then ``upload_postprocess``); unaccepted files are reported and counted, never moved.
- ``duplicates`` (``duplicate_resolution``): ``duplicates_resolve`` renames a new base name
  that belongs to a photo of another project of the tenant to ``<base>_duplicate<N>`` with all
  its files, then ingests it; ``folder_check`` ingests through the same code.
- ``cleaning`` (``manifest_cleaning``): ``manifest_cleaning`` deletes rows that have no file of
  any class left.
- ``scan``: what they share: the compact folder listing (``FolderScan``), the guards and the
  keyset-paginated row chunks.
- ``plan``: ``maintenance_plan``, the dry run of a whole maintenance task.
- ``fingerprint``: what lets a ``maintenance_global`` skip a project unchanged since its last
  full check (folder and manifest mtimes, the rows' count and latest ``updated_at``, the
  trash's next due time).

Every service takes ``dry_run`` and reports what it changes (or would change) to a
``projects.reporting.Report``, which is how ``manage.py maintenance --dry-run`` prints its
plan. Every service is idempotent, never creates a missing project folder, and does nothing to
a project whose folder is missing (that is ``orphaned_project_cleanup``'s business) or whose
manifest names another project of the tenant (a folder swapped on disk needs an operator;
guessing would lose keep flags and tags).

Memory: a folder is scanned once into a compact ``{base name: small int}`` map (``FolderScan``)
and rows are streamed in keyset-paginated chunks of ``PIPELINE_MANIFEST_CHUNK``, so a project of
100,000 photos never has its rows in memory at once.

Races with uploads, moves and commits running at the same time: a row changed after the scan
started (``updated_at``) is left for the next run, and a row is deleted only when a second look
at the folder confirms that none of its files is there.
"""
