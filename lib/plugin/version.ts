declare const __K8S_NRPE_VERSION__: string | undefined;

/** Injected by the build (scripts/build.mjs); 'dev' when run from source. */
export const VERSION: string = typeof __K8S_NRPE_VERSION__ === 'string' ? __K8S_NRPE_VERSION__ : 'dev';
