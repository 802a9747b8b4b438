/** Styles shared by the elements: the notice (backend fallback) and error (typed errors) boxes, the panel. */
import { css } from 'lit';

export const boxes = css`
  .notice { background: #fff7e0; border: 1px solid #e8c35a; border-radius: 6px; padding: 0.4rem 0.6rem; margin: 0.4rem 0; }
  .error { background: #fdecea; border: 1px solid #e4a29b; color: #8a1c12; border-radius: 6px; padding: 0.4rem 0.6rem; margin: 0.4rem 0; white-space: pre-wrap; }
`;

/** The framed panel of `<sample-scope>` and `<pareto-explorer>`, with its heading. */
export const panel = css`
  :host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #1d2430; border: 1px solid #dde1e8; border-radius: 8px; padding: 0.8rem 1rem; background: #fff; }
  :host([hidden]) { display: none; }
  h3 { margin: 0 0 0.4rem; font-size: 1rem; }
`;
