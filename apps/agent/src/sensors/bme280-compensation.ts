/**
 * Bosch BME280 trimming parameters and the datasheet's integer compensation routines
 * (BST-BME280-DS002, sections 4.2.2 and 8.2). The C code uses int32 arithmetic: Math.imul and
 * `| 0` reproduce its 32-bit wrap-around, `>>` is already an arithmetic shift on int32 in JS.
 * Pressure uses int64 in C, hence BigInt (whose `/` truncates toward zero like C).
 */
export interface Bme280Calibration {
  dig_T1: number;
  dig_T2: number;
  dig_T3: number;
  dig_P1: number;
  dig_P2: number;
  dig_P3: number;
  dig_P4: number;
  dig_P5: number;
  dig_P6: number;
  dig_P7: number;
  dig_P8: number;
  dig_P9: number;
  dig_H1: number;
  dig_H2: number;
  dig_H3: number;
  dig_H4: number;
  dig_H5: number;
  dig_H6: number;
}

/** Bytes of the first calibration block, registers 0x88..0xA1. */
export const CALIB_00_25_LENGTH = 26;
/** Bytes of the second calibration block, registers 0xE1..0xE7. */
export const CALIB_26_32_LENGTH = 7;

/** Decodes the two calibration blocks: 0x88..0xA1 (`low`) and 0xE1..0xE7 (`high`). */
export function parseBme280Calibration(low: Buffer, high: Buffer): Bme280Calibration {
  if (low.length < CALIB_00_25_LENGTH || high.length < CALIB_26_32_LENGTH) {
    throw new Error(`BME280 calibration too short: ${low.length}/${CALIB_00_25_LENGTH} and ${high.length}/${CALIB_26_32_LENGTH} bytes`);
  }
  const e4 = high.readInt8(3);
  const e5 = high[4];
  const e6 = high.readInt8(5);
  return {
    dig_T1: low.readUInt16LE(0),
    dig_T2: low.readInt16LE(2),
    dig_T3: low.readInt16LE(4),
    dig_P1: low.readUInt16LE(6),
    dig_P2: low.readInt16LE(8),
    dig_P3: low.readInt16LE(10),
    dig_P4: low.readInt16LE(12),
    dig_P5: low.readInt16LE(14),
    dig_P6: low.readInt16LE(16),
    dig_P7: low.readInt16LE(18),
    dig_P8: low.readInt16LE(20),
    dig_P9: low.readInt16LE(22),
    // low[24] (0xA0) is unused
    dig_H1: low[25],
    dig_H2: high.readInt16LE(0),
    dig_H3: high[2],
    // H4 and H5 are signed 12-bit values sharing register 0xE5: H4 = 0xE4[7:0]·16 + 0xE5[3:0], H5 = 0xE6[7:0]·16 + 0xE5[7:4].
    dig_H4: (e4 * 16) | (e5 & 0x0f),
    dig_H5: (e6 * 16) | (e5 >> 4),
    dig_H6: high.readInt8(6),
  };
}

/** BME280_compensate_T_int32: temperature in 0.01 °C, plus t_fine which pressure and humidity need. */
export function compensateTemperature(adcT: number, c: Bme280Calibration): { temperature: number; tFine: number } {
  const var1 = Math.imul(((adcT >> 3) - (c.dig_T1 << 1)) | 0, c.dig_T2) >> 11;
  const delta = ((adcT >> 4) - c.dig_T1) | 0;
  const var2 = Math.imul(Math.imul(delta, delta) >> 12, c.dig_T3) >> 14;
  const tFine = (var1 + var2) | 0;
  return { temperature: (Math.imul(tFine, 5) + 128) >> 8, tFine };
}

/** BME280_compensate_P_int64: pressure in Pa as unsigned Q24.8 (divide by 256 for Pa). */
export function compensatePressure(adcP: number, tFine: number, c: Bme280Calibration): number {
  const s64 = (value: bigint) => BigInt.asIntN(64, value);
  let var1 = BigInt(tFine) - 128000n;
  let var2 = s64(var1 * var1 * BigInt(c.dig_P6));
  var2 = s64(var2 + s64((var1 * BigInt(c.dig_P5)) << 17n));
  var2 = s64(var2 + (BigInt(c.dig_P4) << 35n));
  var1 = s64(((var1 * var1 * BigInt(c.dig_P3)) >> 8n) + ((var1 * BigInt(c.dig_P2)) << 12n));
  var1 = s64(((1n << 47n) + var1) * BigInt(c.dig_P1)) >> 33n;
  if (var1 === 0n) return 0; // the datasheet's guard against division by zero
  let p = 1048576n - BigInt(adcP);
  p = s64(((p << 31n) - var2) * 3125n) / var1;
  var1 = s64(BigInt(c.dig_P9) * (p >> 13n) * (p >> 13n)) >> 25n;
  var2 = s64(BigInt(c.dig_P8) * p) >> 19n;
  p = ((p + var1 + var2) >> 8n) + (BigInt(c.dig_P7) << 4n);
  return Number(BigInt.asUintN(32, p));
}

/** bme280_compensate_H_int32: relative humidity as unsigned Q22.10 (divide by 1024 for %RH). */
export function compensateHumidity(adcH: number, tFine: number, c: Bme280Calibration): number {
  let v = (tFine - 76800) | 0;
  // The datasheet's single expression, split into its two factors.
  const offset = ((((adcH << 14) - (c.dig_H4 << 20) - Math.imul(c.dig_H5, v)) | 0) + 16384) >> 15;
  const h3Term = ((Math.imul(v, c.dig_H3) >> 11) + 32768) | 0;
  const h6Term = Math.imul(Math.imul(v, c.dig_H6) >> 10, h3Term) >> 10;
  const gain = (Math.imul((h6Term + 2097152) | 0, c.dig_H2) + 8192) >> 14;
  v = Math.imul(offset, gain);
  v = (v - (Math.imul(Math.imul(v >> 15, v >> 15) >> 7, c.dig_H1) >> 4)) | 0;
  v = Math.min(Math.max(v, 0), 419430400);
  return v >>> 12;
}
