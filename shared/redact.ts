/**
 * Secrets never leave watchkeeper: every secret resolved during a run is registered here, and
 * every message, log line and report passes through `redact` before it is written anywhere.
 */

const MASK = '[REDACTED]';

/** Replaces every registered secret with a mask. */
export class Redactor {
  readonly #secrets = new Set<string>();

  /** Registers a secret (ignored when shorter than 4 characters, which would mask ordinary text). */
  add(secret: string): void {
    if (secret.length >= 4) this.#secrets.add(secret);
  }

  /** The text with every registered secret masked. */
  redact(text: string): string {
    let result = text;
    for (const secret of this.#secrets) result = result.split(secret).join(MASK);
    return result;
  }

  /** A deep copy of a JSON value with secrets masked in every string. */
  redactValue<T>(value: T): T {
    if (this.#secrets.size === 0) return value;
    return JSON.parse(this.redact(JSON.stringify(value))) as T;
  }
}
