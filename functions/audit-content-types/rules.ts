/**
 * What Content-Type an S3 key should have, and what is wrong with the one it has. Pure: the
 * expected types come from mime-db (through mime-types) plus a project table for the types whose
 * mismatch breaks pages, and never from the operating system's table (uploaders' OS tables are
 * how `.js` became text/plain on Windows in the first place).
 */
import mime from 'mime-types';
import type { Severity } from '#shared/findings.ts';

/** The finding codes this job emits (DESIGN.md, plus `check-failed` for objects it could not read). */
export const CODES = {
  missing: 'content-type.missing',
  mismatch: 'content-type.mismatch',
  sniffMismatch: 'content-type.sniff-mismatch',
  charsetMissing: 'content-type.charset-missing',
  fixed: 'content-type.fixed',
  fixSkipped: 'content-type.fix-skipped',
  checkFailed: 'content-type.check-failed',
} as const;

/** What a key's extension says its type must be. */
export interface Expectation {
  extension: string;
  /** The type a fix writes (essence, or a full value with parameters from a `types` override). */
  expected: string;
  /** Essences that count as correct (lowercase). */
  accepted: ReadonlySet<string>;
  /** A wrong type breaks pages (stylesheets, scripts, HTML, SVG, WebAssembly). */
  critical: boolean;
  /** What goes wrong for users, completing "…: <breaks>". */
  breaks: string;
  source: 'project' | 'override' | 'mime-db';
}

/** A parsed Content-Type header value. */
export interface ParsedContentType {
  /** `type/subtype`, lowercase. */
  essence: string;
  charset?: string;
}

/** The problem a stored Content-Type has, if any. */
export interface TypeProblem {
  code: typeof CODES.missing | typeof CODES.mismatch;
  severity: Severity;
  message: string;
  expectation: Expectation;
  /** The stored header value, `undefined` when absent. */
  actual: string | undefined;
}

// The WHATWG "JavaScript MIME type essence match" list: every one of these runs as a script.
const JAVASCRIPT_TYPES = [
  'text/javascript',
  'application/javascript',
  'application/ecmascript',
  'application/x-ecmascript',
  'application/x-javascript',
  'text/ecmascript',
  'text/javascript1.0',
  'text/javascript1.1',
  'text/javascript1.2',
  'text/javascript1.3',
  'text/javascript1.4',
  'text/javascript1.5',
  'text/jscript',
  'text/livescript',
  'text/x-ecmascript',
  'text/x-javascript',
];

const SCRIPT_BREAKS =
  'browsers refuse module scripts, and every script sent with X-Content-Type-Options: nosniff, whose type is not a JavaScript type';

interface ProjectRule {
  expected: string;
  accepted: readonly string[];
  critical: boolean;
  breaks: string;
}

/** The web-critical extensions, settled here rather than left to whichever mime-db version ships. */
const PROJECT_TABLE: Readonly<Record<string, ProjectRule>> = {
  css: {
    expected: 'text/css',
    accepted: ['text/css'],
    critical: true,
    breaks: 'browsers refuse a stylesheet whose type is not text/css, so pages lose their layout',
  },
  js: { expected: 'text/javascript', accepted: JAVASCRIPT_TYPES, critical: true, breaks: SCRIPT_BREAKS },
  mjs: { expected: 'text/javascript', accepted: JAVASCRIPT_TYPES, critical: true, breaks: SCRIPT_BREAKS },
  cjs: { expected: 'text/javascript', accepted: JAVASCRIPT_TYPES, critical: true, breaks: SCRIPT_BREAKS },
  html: {
    expected: 'text/html',
    accepted: ['text/html'],
    critical: true,
    breaks: 'browsers download the page or show its source instead of rendering it',
  },
  htm: {
    expected: 'text/html',
    accepted: ['text/html'],
    critical: true,
    breaks: 'browsers download the page or show its source instead of rendering it',
  },
  svg: {
    expected: 'image/svg+xml',
    accepted: ['image/svg+xml'],
    critical: true,
    breaks: 'browsers do not render an SVG image whose type is not image/svg+xml',
  },
  wasm: {
    expected: 'application/wasm',
    accepted: ['application/wasm'],
    critical: true,
    breaks: 'WebAssembly.instantiateStreaming() rejects a module whose type is not application/wasm',
  },
  json: {
    expected: 'application/json',
    accepted: ['application/json'],
    critical: false,
    breaks: 'JSON module imports and strict API clients reject JSON whose type is not application/json',
  },
  map: {
    expected: 'application/json',
    accepted: ['application/json'],
    critical: false,
    breaks: 'developer tools may ignore a source map that is not served as JSON',
  },
  webmanifest: {
    expected: 'application/manifest+json',
    accepted: ['application/manifest+json', 'application/json'],
    critical: false,
    breaks: 'browsers may ignore the web app manifest, and with it install prompts and icons',
  },
  woff2: {
    expected: 'font/woff2',
    accepted: ['font/woff2', 'application/font-woff2'],
    critical: false,
    breaks: 'CDNs and strict clients that decide by type may mishandle the font',
  },
  woff: {
    expected: 'font/woff',
    accepted: ['font/woff', 'application/font-woff', 'application/x-font-woff'],
    critical: false,
    breaks: 'CDNs and strict clients that decide by type may mishandle the font',
  },
};

const GENERIC_BREAKS =
  'clients that trust Content-Type (browsers, CDNs compressing by type) may handle it wrongly';

/** Types uploaders store when they do not know better: on a known extension they mean "no type". */
export const UNSET_TYPES: ReadonlySet<string> = new Set(['binary/octet-stream', 'application/octet-stream']);

let typesByExtension: Map<string, Set<string>> | undefined;

/** Every mime-db type that lists the extension (`.ico` → image/x-icon and image/vnd.microsoft.icon). */
function mimeDbTypes(extension: string): ReadonlySet<string> {
  if (!typesByExtension) {
    typesByExtension = new Map();
    for (const [type, extensions] of Object.entries(mime.extensions)) {
      for (const ext of extensions) {
        const set = typesByExtension.get(ext) ?? new Set<string>();
        set.add(type);
        typesByExtension.set(ext, set);
      }
    }
  }
  return typesByExtension.get(extension) ?? new Set();
}

/** The lowercase extension of a key's last segment (`a/b.min.CSS` → `css`), undefined for none. */
export function extensionOf(key: string): string | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  // A dot file without another dot (`.htaccess`) has a name, not an extension.
  if (dot <= 0 || dot === name.length - 1) return undefined;
  return name.slice(dot + 1).toLowerCase();
}

/** Normalises `types` override keys: `.JS` → `js`. */
export function normaliseOverrides(types: Readonly<Record<string, string>>): Map<string, string> {
  const map = new Map<string, string>();
  for (const [ext, type] of Object.entries(types)) map.set(ext.replace(/^\./, '').toLowerCase(), type.trim());
  return map;
}

/** What the key's extension says, or undefined when nobody knows the extension. */
export function expectationFor(key: string, overrides: ReadonlyMap<string, string>): Expectation | undefined {
  const extension = extensionOf(key);
  if (extension === undefined) return undefined;
  const project = PROJECT_TABLE[extension];
  const override = overrides.get(extension);
  if (override !== undefined) {
    const parsed = parseContentType(override);
    return {
      extension,
      expected: override,
      accepted: new Set(parsed ? [parsed.essence] : []),
      critical: project?.critical ?? false,
      breaks: project?.breaks ?? GENERIC_BREAKS,
      source: 'override',
    };
  }
  if (project) {
    return { extension, ...project, accepted: new Set(project.accepted), source: 'project' };
  }
  const expected = mime.lookup(extension);
  if (expected === false) return undefined;
  return {
    extension,
    expected,
    accepted: new Set([expected, ...mimeDbTypes(extension)]),
    critical: false,
    breaks: GENERIC_BREAKS,
    source: 'mime-db',
  };
}

/** Suffixes of pre-compressed copies and the Content-Encoding that makes them transparent. */
const COMPRESSION_SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  gz: ['gzip', 'x-gzip'],
  br: ['br'],
  zst: ['zstd'],
};

/**
 * For a pre-compressed asset served transparently (`app.js.gz` with `Content-Encoding: gzip`), the
 * type must be the inner file's (text/javascript), not application/gzip: the expectation of the
 * key without the suffix. Otherwise the key's own expectation (a `.gz` download is application/gzip).
 */
export function expectationForEncoded(
  key: string,
  contentEncoding: string | undefined,
  overrides: ReadonlyMap<string, string>,
): Expectation | undefined {
  const extension = extensionOf(key);
  const encodings = extension === undefined ? undefined : COMPRESSION_SUFFIXES[extension];
  const encoding = contentEncoding?.trim().toLowerCase();
  if (encodings !== undefined && encoding !== undefined && encodings.includes(encoding)) {
    const inner = expectationFor(key.slice(0, -(extension?.length ?? 0) - 1), overrides);
    if (inner !== undefined) return inner;
  }
  return expectationFor(key, overrides);
}

/** Parses a Content-Type value; undefined for absent, empty or malformed values. */
export function parseContentType(value: string | undefined): ParsedContentType | undefined {
  if (value === undefined) return undefined;
  const [head = '', ...params] = value.split(';');
  const essence = head.trim().toLowerCase();
  if (!/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/.test(essence)) return undefined;
  for (const param of params) {
    const match = /^\s*charset\s*=\s*"?([^";\s]+)"?\s*$/i.exec(param);
    if (match?.[1]) return { essence, charset: match[1] };
  }
  return { essence };
}

/** `missing` or `mismatch` for a stored type against what the extension expects; undefined when fine. */
export function judgeContentType(
  target: string,
  actual: string | undefined,
  expectation: Expectation,
): TypeProblem | undefined {
  const parsed = parseContentType(actual);
  const severity: Severity = expectation.critical ? 'critical' : 'warning';
  const expectedEssence = parseContentType(expectation.expected)?.essence ?? expectation.expected;
  if (
    parsed === undefined ||
    (UNSET_TYPES.has(parsed.essence) && !expectation.accepted.has(parsed.essence))
  ) {
    const stored = actual === undefined || actual.trim() === '' ? 'no Content-Type' : `"${actual}"`;
    return {
      code: CODES.missing,
      severity,
      message: `${target} has ${stored} instead of ${expectedEssence}: ${expectation.breaks}.`,
      expectation,
      actual,
    };
  }
  if (expectation.accepted.has(parsed.essence)) return undefined;
  return {
    code: CODES.mismatch,
    severity,
    message: `${target} is served as ${parsed.essence}, not ${expectedEssence}: ${expectation.breaks}.`,
    expectation,
    actual,
  };
}

/** Text types without a charset parameter (browsers then guess, and guess differently). */
export function lacksCharset(actual: string | undefined): boolean {
  const parsed = parseContentType(actual);
  return parsed?.essence.startsWith('text/') === true && parsed.charset === undefined;
}

/**
 * The value a fix writes: the expected type, keeping the stored charset parameter (the bytes were
 * written in that charset) unless an override spells out its own parameters.
 */
export function correctedType(expectation: Expectation, actual: string | undefined): string {
  if (expectation.expected.includes(';')) return expectation.expected;
  const charset = parseContentType(actual)?.charset;
  return charset === undefined ? expectation.expected : `${expectation.expected}; charset=${charset}`;
}

// Containers file-type reports for many unrelated formats (SVG is XML, DOCX is ZIP): no verdict.
const INCONCLUSIVE_DETECTIONS: ReadonlySet<string> = new Set([
  'application/xml',
  'text/xml',
  'application/zip',
  'application/x-cfb',
]);

/** Whether two essences name the same format (`image/x-icon` and `image/vnd.microsoft.icon`). */
export function sameFormat(a: string, b: string): boolean {
  if (a === b) return true;
  const extensionsA = mime.extensions[a] ?? [];
  const extensionsB = new Set(mime.extensions[b] ?? []);
  return extensionsA.some((ext) => extensionsB.has(ext));
}

/** Whether magic-number detection contradicts the stored type; false when the detection says nothing. */
export function sniffContradicts(storedEssence: string | undefined, detected: string | undefined): boolean {
  if (detected === undefined || INCONCLUSIVE_DETECTIONS.has(detected)) return false;
  if (storedEssence === undefined) return true;
  return !sameFormat(storedEssence, detected);
}
