import { describe, expect, it } from 'vitest';
import {
  CODES,
  correctedType,
  expectationFor,
  expectationForEncoded,
  extensionOf,
  judgeContentType,
  lacksCharset,
  normaliseOverrides,
  parseContentType,
  sniffContradicts,
} from '#functions/audit-content-types/rules.ts';

const none = new Map<string, string>();
const target = 's3://site/x';

function judge(key: string, actual: string | undefined, overrides = none) {
  const expectation = expectationFor(key, overrides);
  if (!expectation) throw new Error(`no expectation for ${key}`);
  return judgeContentType(target, actual, expectation);
}

describe('extensionOf', () => {
  it('takes the last extension of the last segment, lowercased', () => {
    expect(extensionOf('a/b.min.CSS')).toBe('css');
    expect(extensionOf('dir.v2/file')).toBeUndefined();
    expect(extensionOf('.htaccess')).toBeUndefined();
    expect(extensionOf('trailing.')).toBeUndefined();
  });
});

describe('expectationFor', () => {
  it('settles the web-critical types from the project table', () => {
    expect(expectationFor('a.css', none)).toMatchObject({
      expected: 'text/css',
      critical: true,
      source: 'project',
    });
    expect(expectationFor('a.mjs', none)).toMatchObject({ expected: 'text/javascript', critical: true });
    expect(expectationFor('a.wasm', none)).toMatchObject({ expected: 'application/wasm', critical: true });
    expect(expectationFor('a.svg', none)).toMatchObject({ expected: 'image/svg+xml', critical: true });
    expect(expectationFor('a.woff2', none)).toMatchObject({ expected: 'font/woff2', critical: false });
    expect(expectationFor('a.webmanifest', none)).toMatchObject({ expected: 'application/manifest+json' });
    expect(expectationFor('a.map', none)).toMatchObject({ expected: 'application/json' });
  });

  it('falls back to mime-db, accepting every type it lists for the extension', () => {
    const ico = expectationFor('favicon.ico', none);
    expect(ico?.source).toBe('mime-db');
    expect(ico?.accepted.has('image/x-icon')).toBe(true);
    expect(ico?.accepted.has('image/vnd.microsoft.icon')).toBe(true);
    expect(expectationFor('a.unknownext', none)).toBeUndefined();
  });

  it('lets an override win, keeping the severity of web-critical extensions', () => {
    const overrides = normaliseOverrides({ '.JS': 'application/javascript; charset=utf-8' });
    const expectation = expectationFor('app.js', overrides);
    expect(expectation).toMatchObject({
      source: 'override',
      critical: true,
      expected: 'application/javascript; charset=utf-8',
    });
    expect(judge('app.js', 'text/javascript', overrides)?.code).toBe(CODES.mismatch);
  });
});

describe('expectationForEncoded', () => {
  it('expects the inner type of a pre-compressed asset served with its Content-Encoding', () => {
    expect(expectationForEncoded('app.js.gz', 'gzip', none)?.expected).toBe('text/javascript');
    expect(expectationForEncoded('site.css.br', 'br', none)?.expected).toBe('text/css');
  });

  it('expects the archive type of a plain download', () => {
    expect(expectationForEncoded('backup.tar.gz', undefined, none)?.expected).toBe('application/gzip');
    expect(expectationForEncoded('app.js.gz', 'br', none)?.expected).toBe('application/gzip');
  });
});

describe('judgeContentType', () => {
  it('reports a CSS without a type as missing and critical, saying what breaks', () => {
    const problem = judge('main.css', 'binary/octet-stream');
    expect(problem?.code).toBe(CODES.missing);
    expect(problem?.severity).toBe('critical');
    expect(problem?.message).toContain('browsers refuse a stylesheet whose type is not text/css');
    expect(judge('main.css', undefined)?.code).toBe(CODES.missing);
    expect(judge('main.css', 'application/octet-stream')?.code).toBe(CODES.missing);
    expect(judge('main.css', '')?.code).toBe(CODES.missing);
  });

  it('reports a script typed text/plain as a critical mismatch', () => {
    const problem = judge('app.js', 'text/plain');
    expect(problem?.code).toBe(CODES.mismatch);
    expect(problem?.severity).toBe('critical');
    expect(problem?.message).toContain('is served as text/plain, not text/javascript');
  });

  it('accepts every JavaScript MIME type and ignores parameters and case', () => {
    expect(judge('app.js', 'application/javascript')).toBeUndefined();
    expect(judge('app.mjs', 'Text/JavaScript; charset=UTF-8')).toBeUndefined();
    expect(judge('main.css', 'text/css;charset=utf-8')).toBeUndefined();
  });

  it('rates a wrong image type a warning, not critical', () => {
    expect(judge('logo.png', 'image/jpeg')).toMatchObject({ code: CODES.mismatch, severity: 'warning' });
  });

  it('does not call octet-stream missing where the extension really is octet-stream', () => {
    expect(judge('firmware.bin', 'application/octet-stream')).toBeUndefined();
  });
});

describe('charset and corrections', () => {
  it('flags text types without a charset only', () => {
    expect(lacksCharset('text/css')).toBe(true);
    expect(lacksCharset('text/css; charset=utf-8')).toBe(false);
    expect(lacksCharset('image/png')).toBe(false);
    expect(lacksCharset(undefined)).toBe(false);
  });

  it('keeps the stored charset when correcting the type', () => {
    const css = expectationFor('a.css', none);
    if (!css) throw new Error('no expectation');
    expect(correctedType(css, 'text/plain; charset=ISO-8859-1')).toBe('text/css; charset=ISO-8859-1');
    expect(correctedType(css, 'binary/octet-stream')).toBe('text/css');
  });

  it('parses quoted charsets and rejects garbage', () => {
    expect(parseContentType('text/html; charset="utf-8"')).toEqual({
      essence: 'text/html',
      charset: 'utf-8',
    });
    expect(parseContentType('not a type')).toBeUndefined();
  });
});

describe('sniffContradicts', () => {
  it('contradicts a PNG stored as JPEG but accepts aliases of one format', () => {
    expect(sniffContradicts('image/jpeg', 'image/png')).toBe(true);
    expect(sniffContradicts('image/vnd.microsoft.icon', 'image/x-icon')).toBe(false);
    expect(sniffContradicts('image/png', 'image/png')).toBe(false);
  });

  it('draws no conclusion from containers or from no detection', () => {
    expect(sniffContradicts('image/svg+xml', 'application/xml')).toBe(false);
    expect(
      sniffContradicts(
        'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        'application/zip',
      ),
    ).toBe(false);
    expect(sniffContradicts('text/css', undefined)).toBe(false);
  });
});
