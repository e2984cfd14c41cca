/**
 * Builds a handler exactly as `sls package` does (the options of deploy/esbuild.cjs), for the
 * IAM test (which SDK commands ship) and the cold-start benchmark (size and init time).
 */
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';

const root = resolve(import.meta.dirname, '..');

/** A built handler. */
export interface BuiltHandler {
  outfile: string;
  bytes: number;
  metafile: Metafile;
}

/** Bundles `entry` (relative to the repository) into `outdir` with the deploy options. */
export async function bundleHandler(entry: string, outdir: string): Promise<BuiltHandler> {
  const options = createRequire(import.meta.url)('./esbuild.cjs')({ serviceDir: root }) as BuildOptions & {
    exclude?: unknown;
    outputFileExtension?: unknown;
  };
  // serverless-esbuild's own options, not esbuild's.
  const { exclude: _exclude, outputFileExtension: _extension, ...esbuildOptions } = options;
  const outfile = join(outdir, `${entry.replace(/[/.]/g, '_')}.mjs`);
  const result = await build({
    ...esbuildOptions,
    entryPoints: [join(root, entry)],
    absWorkingDir: root,
    outfile,
    metafile: true,
    logLevel: 'silent',
  });
  const output =
    result.metafile.outputs[Object.keys(result.metafile.outputs).find((path) => path.endsWith('.mjs')) ?? ''];
  return { outfile, bytes: output?.bytes ?? 0, metafile: result.metafile };
}

/** The SDK operations that ship in a bundle (modules tree-shaken away do not count). */
export function shippedOperations(metafile: Metafile): Array<{ client: string; operation: string }> {
  const operations: Array<{ client: string; operation: string }> = [];
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      if (input.bytesInOutput === 0) continue;
      const match = /@aws-sdk\/(client-[a-z0-9-]+)\/dist-es\/commands\/([A-Za-z0-9]+)Command\.js$/.exec(path);
      if (match?.[1] && match[2]) operations.push({ client: match[1], operation: match[2] });
    }
  }
  return operations;
}
