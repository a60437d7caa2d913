// Audio helpers: WAV around raw PCM, and playing PCM as it arrives.

/** A WAV file around 16-bit little-endian mono PCM. */
export function wavFromPcm(chunks, sampleRate = 24000) {
  const length = chunks.reduce((n, c) => n + c.length, 0);
  const header = new DataView(new ArrayBuffer(44));
  const text = (offset, s) => [...s].forEach((ch, i) => header.setUint8(offset + i, ch.charCodeAt(0)));
  text(0, 'RIFF');
  header.setUint32(4, 36 + length, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  header.setUint32(16, 16, true);
  header.setUint16(20, 1, true);
  header.setUint16(22, 1, true);
  header.setUint32(24, sampleRate, true);
  header.setUint32(28, sampleRate * 2, true);
  header.setUint16(32, 2, true);
  header.setUint16(34, 16, true);
  text(36, 'data');
  header.setUint32(40, length, true);
  return new Blob([header, ...chunks], { type: 'audio/wav' });
}

/** Base64 to bytes. */
export function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Plays 16-bit PCM chunks back to back as they arrive (Web Audio); `stop()` silences it. */
export class PcmPlayer {
  constructor(sampleRate = 24000) {
    this.context = new AudioContext();
    this.sampleRate = sampleRate;
    this.at = 0;
    this.carry = null;
    this.sources = [];
  }

  push(bytes) {
    let data = bytes;
    if (this.carry) {
      data = new Uint8Array(this.carry.length + bytes.length);
      data.set(this.carry);
      data.set(bytes, this.carry.length);
      this.carry = null;
    }
    if (data.length % 2 === 1) {
      this.carry = data.slice(-1);
      data = data.slice(0, -1);
    }
    if (data.length === 0) return;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const samples = new Float32Array(data.length / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(2 * i, true) / 32768;
    const buffer = this.context.createBuffer(1, samples.length, this.sampleRate);
    buffer.copyToChannel(samples, 0);
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    this.at = Math.max(this.at, this.context.currentTime + 0.05);
    source.start(this.at);
    this.at += buffer.duration;
    this.sources.push(source);
  }

  stop() {
    for (const source of this.sources) {
      try {
        source.stop();
      } catch {
        // Already ended.
      }
    }
    this.context.close();
  }
}
