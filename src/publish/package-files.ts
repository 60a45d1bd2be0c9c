import type { Output } from '../cli/output.js';
import { formatBytes } from '../cli/format.js';
import type { PackageConfig } from '../config/schema.js';
import { hashFiles, type PackageFile } from '../pack/hash-files.js';
import { scanPackage } from '../pack/scan.js';

/** Scans and hashes one package's folder, with progress. */
export async function readPackageFiles(
  id: string,
  packageConfig: PackageConfig,
  configDir: string,
  output: Output,
): Promise<PackageFile[]> {
  const scanned = await scanPackage(id, packageConfig, configDir);
  const totalBytes = scanned.reduce((sum, file) => sum + file.size, 0);
  const step = output.step(`${id}: hashing ${scanned.length} files (${formatBytes(totalBytes)})`);
  const files = await hashFiles(scanned, (done) => step.update(`${id}: hashing ${formatBytes(done)} / ${formatBytes(totalBytes)}`));
  step.succeed(`${id}: ${scanned.length} files, ${formatBytes(totalBytes)}`);
  return files;
}
