/** Errors of the SMTP client: one class, with a `kind` a caller can turn into a finding. */

/**
 * Why an SMTP conversation failed:
 * `connect` (refused, unreachable, DNS), `timeout` (connect, a reply or the TLS handshake took too
 * long), `closed` (the server closed the connection), `protocol` (a malformed reply), `tls` (the
 * TLS handshake failed), `aborted` (the caller's signal fired).
 */
export type SmtpErrorKind = 'connect' | 'timeout' | 'closed' | 'protocol' | 'tls' | 'aborted';

/** A failed SMTP conversation step. `stage` names what was being done (`connect`, `EHLO` ...). */
export class SmtpError extends Error {
  override name = 'SmtpError';
  readonly kind: SmtpErrorKind;
  /** The step that failed: `connect`, `greeting`, a command verb, `tls`. Set by the client. */
  stage: string | undefined;

  constructor(kind: SmtpErrorKind, message: string, options?: { cause?: unknown; stage?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.stage = options?.stage;
  }
}
