import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';

/** A key's id: a hash prefix that names the key in each record without revealing anything usable about it. */
function keyId(key: Buffer): string {
  return createHash('sha256').update('omni-hub vault key id\0').update(key).digest('hex').slice(0, 16);
}

export class VaultKeyError extends Error {}

/**
 * AES-256-GCM over the vault's secrets with the keys of VAULT_KEY: the first key seals, every key opens (rotation:
 * put the new key first, keep the old ones until every record has been rewritten). A sealed value is
 * `v1.<key id>.<iv>.<ciphertext>.<tag>` (base64url); the associated data binds it to its slot, so a value copied to
 * another principal's or upstream's record does not open.
 */
export class VaultCipher {
  private readonly keys: Map<string, Buffer>;
  readonly currentKeyId: string;

  constructor(keys: Buffer[]) {
    if (keys.length === 0 || keys.some((k) => k.length !== 32)) throw new VaultKeyError('the vault needs at least one 32-byte key');
    this.keys = new Map(keys.map((k) => [keyId(k), k]));
    this.currentKeyId = keyId(keys[0]!);
  }

  seal(plaintext: string, slot: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(slot, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, this.currentKeyId, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** The key id a sealed value was written with (to tell whether it should be rewritten with the current key). */
  static keyIdOf(sealed: string): string | undefined {
    return sealed.split('.')[1];
  }

  open(sealed: string, slot: string): string {
    const [format, kid, iv, body, tag] = sealed.split('.');
    if (format !== FORMAT || !kid || iv === undefined || body === undefined || tag === undefined) throw new VaultKeyError('not a sealed vault value');
    const key = this.keys.get(kid);
    if (!key) throw new VaultKeyError(`sealed with key ${kid}, which VAULT_KEY no longer holds`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(slot, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new VaultKeyError('a vault value failed its integrity check (altered, or moved from another slot)');
    }
  }
}
