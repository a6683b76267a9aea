/** -vv request log and friends: written to stderr only at or above `level` (see --verbose). */
export type Logger = (level: number, line: string) => void;

export const silent: Logger = () => {};
