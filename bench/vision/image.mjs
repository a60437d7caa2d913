// Writes the benchmark's test image: a deterministic 24-bit PNG (gradients and a checkerboard), so both sides decode,
// resize and encode the same pixels.
//
//   node image.mjs OUT.png [SIZE]
import fs from 'node:fs';
import zlib from 'node:zlib';

const [out, sizeArg] = process.argv.slice(2);
const size = Number.parseInt(sizeArg ?? '512', 10);
const rows = [];
for (let y = 0; y < size; y++) {
  const row = Buffer.alloc(1 + size * 3);
  for (let x = 0; x < size; x++) {
    const check = ((x >> 5) + (y >> 5)) % 2 === 0 ? 40 : 0;
    row[1 + x * 3] = (x * 255 / size + check) & 255;
    row[2 + x * 3] = (y * 255 / size) & 255;
    row[3 + x * 3] = ((x ^ y) + check) & 255;
  }
  rows.push(row);
}

const table = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc = (bytes) => {
  let c = 0xffffffff;
  for (const b of bytes) c = table[(c ^ b) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc(body));
  return Buffer.concat([length, body, sum]);
};
const header = Buffer.alloc(13);
header.writeUInt32BE(size, 0);
header.writeUInt32BE(size, 4);
header[8] = 8; // bit depth
header[9] = 2; // truecolour
fs.writeFileSync(out, Buffer.concat([
  Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
  chunk('IHDR', header),
  chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
  chunk('IEND', Buffer.alloc(0)),
]));
