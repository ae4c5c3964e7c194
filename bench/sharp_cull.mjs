// The original system's order, driven by bench/time_to_cull.py: for each photo in turn, its
// thumbnail (fit 800, WebP q50) then its preview (fit 5000, WebP q60), auto-oriented, never
// enlarged, sharp's default WebP effort 4 unless told. libvips' thread pool is sharp's default
// (the cores the process may use) unless "threads" is given.
//
//   node bench/sharp_cull.mjs '{"files": [...], "out": "/tmp/x", "effort": 4}'
//
// Prints one JSON object: {"thumb_ms": [...], "preview_ms": [...]} — milliseconds from the
// start until each photo's thumbnail, and its preview, exists on disk.
import { basename, join } from "node:path";
import { performance } from "node:perf_hooks";
import sharp from "sharp";

const args = JSON.parse(process.argv[2]);
if (args.threads) sharp.concurrency(args.threads);
sharp.cache(false);
const effort = args.effort ?? 4;

const thumbMs = [];
const previewMs = [];
const start = performance.now();
for (const [i, file] of args.files.entries()) {
  const stem = `${i}_${basename(file).replace(/\.[^.]+$/, "")}`;
  await sharp(file)
    .rotate()
    .resize(800, 800, { fit: "inside", withoutEnlargement: true })
    .webp({ quality: 50, effort })
    .toFile(join(args.out, `${stem}.thumb.webp`));
  thumbMs.push(performance.now() - start);
  await sharp(file)
    .rotate()
    .resize(5000, 5000, { fit: "inside", withoutEnlargement: true })
    .webp({ quality: 60, effort })
    .toFile(join(args.out, `${stem}.preview.webp`));
  previewMs.push(performance.now() - start);
}
process.stdout.write(
  JSON.stringify({ thumb_ms: thumbMs, preview_ms: previewMs, versions: sharp.versions }),
);
