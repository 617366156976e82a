/**
 * A key-value entry's value as a JSON object, or undefined for anything else: empty, over
 * `maxBytes`, not JSON, or JSON that is not an object. Anyone allowed on the bucket's subjects
 * can write there, so every reader starts here before checking its own fields.
 */
export function bucketJsonObject(value: Uint8Array, maxBytes: number): Record<string, unknown> | undefined {
  if (value.length === 0 || value.length > maxBytes) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value).toString('utf8'));
  } catch {
    return undefined;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}
