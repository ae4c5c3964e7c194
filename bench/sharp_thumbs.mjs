// sharp (libvips) peer of photos.imaging.make_derivatives, driven by bench/derivatives.py.
//
//   node bench/sharp_thumbs.mjs '{"files": [...], "out": "/tmp/x", "repeat": 3, "effort": 4}'
//
// For each file: a thumbnail (fit 800, WebP q50) and a preview (fit 5000, WebP q60), both
// auto-oriented from EXIF and never enlarged, as the original Node.js system made them: two
// pipelines from the same file. One libvips thread (sharp.concurrency(1)), no operation cache.
// Prints one JSON object: {"ms": {file: [wall ms per run...]}, "cpu": {file: [CPU ms...]},
// "outputs": {...}}.
import { statSync } from "node:fs";
import { basename, join } from "node:path";
import { performance } from "node:perf_hooks";
import sharp from "sharp";

const args = JSON.parse(process.argv[2]);
const threads = args.threads ?? 1;
sharp.concurrency(threads);
sharp.cache(false);
sharp.simd(true);

const effort = args.effort ?? 4; // sharp's default WebP effort

async function derivatives(file, stem) {
  const thumb = join(args.out, `${stem}.thumb.webp`);
  const preview = join(args.out, `${stem}.preview.webp`);
  const p = await sharp(file)
    .rotate()
    .resize(5000, 5000, { fit: "inside", withoutEnlargement: true })
    .webp({ quality: 60, effort })
    .toFile(preview);
  const t = await sharp(file)
    .rotate()
    .resize(800, 800, { fit: "inside", withoutEnlargement: true })
    .webp({ quality: 50, effort })
    .toFile(thumb);
  return {
    thumb: [t.width, t.height, statSync(thumb).size],
    preview: [p.width, p.height, statSync(preview).size],
  };
}

const ms = {};
const cpu = {};
const outputs = {};
// Warm up: load the library and fill the page cache, untimed.
await derivatives(args.files[0], "warmup");
for (let run = 0; run < args.repeat; run++) {
  for (const file of args.files) {
    const stem = basename(file).replace(/\.[^.]+$/, "");
    const start = performance.now();
    const startCpu = process.cpuUsage();
    outputs[file] = await derivatives(file, stem);
    const used = process.cpuUsage(startCpu);
    (ms[file] ??= []).push(performance.now() - start);
    (cpu[file] ??= []).push((used.user + used.system) / 1000);
  }
}
process.stdout.write(
  JSON.stringify({ ms, cpu, outputs, versions: { sharp: sharp.versions.sharp, vips: sharp.versions.vips } }),
);
