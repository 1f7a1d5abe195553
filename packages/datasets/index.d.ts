// Types for where this package's IDX files are.
/** The datasets this package holds, each a folder of gzipped IDX files. */
export declare const DATASETS: readonly ['fashion-mnist', 'mnist'];
/** Absolute path of this package's folder (the parent of `fashion-mnist/` and `mnist/`). */
export declare const datasetsRoot: string;
/** Absolute path of one dataset's folder (ends with a slash); throws for an unknown name. */
export declare function datasetDir(name: 'fashion-mnist' | 'mnist'): string;
