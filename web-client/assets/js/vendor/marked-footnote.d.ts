import type { MarkedExtension } from './marked.esm.js';

/** Options of marked-footnote. */
export interface Options {
  prefixId?: string;
  description?: string;
  refMarkers?: boolean;
  footnoteDivider?: boolean;
  keepLabels?: boolean;
  sectionClass?: string;
  headingClass?: string;
  backRefLabel?: string;
}

/** A marked extension for GFM footnotes (`[^1]` and `[^1]: text`). */
export default function markedFootnote(options?: Options): MarkedExtension;
