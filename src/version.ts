/**
 * This package's version, as package.json states it (a unit test keeps the two equal). Sweep records carry it, so
 * a merge can tell lines written by different releases apart.
 */
export const VERSION = '0.1.0';
