// Exports of the selection (dialogs.js asks, actions.js starts, the tray links the ZIP):
// pure pieces, unit-tested (tests/js/export.test.mjs).

// An export's settings as the API takes them (``kind`` originals or jpeg; the JPEG's long
// edge, quality and watermark; the name template); ``null`` when a field is not a number.
export function exportBody(fields) {
  const body = { kind: fields.kind === "jpeg" ? "jpeg" : "originals", name_template: (fields.template || "").trim() || "{basename}" };
  if (body.kind === "jpeg") {
    const longEdge = Number(fields.longEdge);
    const quality = Number(fields.quality);
    if (!Number.isInteger(longEdge) || !Number.isInteger(quality)) return null;
    body.long_edge = longEdge;
    body.quality = quality;
    const watermark = (fields.watermark || "").trim();
    if (watermark) body.watermark = watermark;
  }
  return body;
}
