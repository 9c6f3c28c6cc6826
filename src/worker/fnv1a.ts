/** FNV-1a (32-bit), enough to tell whether two disks hold the same bytes in tests. */
export class Fnv1a {
  private hash = 0x811c9dc5;

  addByte(byte: number): void {
    this.hash = Math.imul(this.hash ^ (byte & 0xff), 0x01000193) >>> 0;
  }

  addBytes(bytes: Uint8Array): void {
    for (let index = 0; index < bytes.length; index++) this.addByte(bytes[index]!);
  }

  addRepeated(byte: number, count: number): void {
    for (let index = 0; index < count; index++) this.addByte(byte);
  }

  addNumber(value: number): void {
    for (let shift = 0; shift < 32; shift += 8) this.addByte((value >>> shift) & 0xff);
  }

  hex(): string {
    return this.hash.toString(16).padStart(8, '0');
  }
}
