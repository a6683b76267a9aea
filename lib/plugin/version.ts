declare const __K8S_NRPE_VERSION__: string | undefined;

/** Injected by the build (scripts/build.mjs); 'dev' when run from source. */
export const VERSION: string = typeof __K8S_NRPE_VERSION__ === 'string' ? __K8S_NRPE_VERSION__ : 'dev';

/**
 * The version line of --version and -V: ours, and the Node.js runtime and OpenSSL the binary
 * embeds, so an operator can tell a build that needs a security update. Read when called (at run
 * time), never at load: a module's top level runs while the startup snapshot is built.
 */
export function versionLine(name: string): string {
  return `${name} ${VERSION} (node ${process.version}, OpenSSL ${process.versions.openssl})\n`;
}
