import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const developmentSecrets = z.object({ cookieKey: z.string().min(32), keyEncryptionKey: z.string().length(43) });

export type DevelopmentSecrets = z.infer<typeof developmentSecrets> & { file: string };

/**
 * Secrets for a development instance, generated on first start and kept (mode 0600) in the data
 * directory. Never used in production, where the configuration refuses to start without real ones.
 */
export function loadDevelopmentSecrets(dataDir: string): DevelopmentSecrets {
  const file = join(dataDir, 'development-secrets.json');
  try {
    return { ...developmentSecrets.parse(JSON.parse(readFileSync(file, 'utf8'))), file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} is not a valid development secrets file: delete it to start afresh`, { cause: error });
  }
  const secrets = { cookieKey: randomBytes(32).toString('base64url'), keyEncryptionKey: randomBytes(32).toString('base64url') };
  mkdirSync(dataDir, { recursive: true });
  // 'wx': two processes starting at once must not overwrite each other's secrets.
  try {
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadDevelopmentSecrets(dataDir);
    throw error;
  }
  return { ...secrets, file };
}
