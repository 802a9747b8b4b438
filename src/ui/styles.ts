/** Styles shared by the elements: the notice (backend fallback) and error (typed errors) boxes. */
import { css } from 'lit';

export const boxes = css`
  .notice { background: #fff7e0; border: 1px solid #e8c35a; border-radius: 6px; padding: 0.4rem 0.6rem; margin: 0.4rem 0; }
  .error { background: #fdecea; border: 1px solid #e4a29b; color: #8a1c12; border-radius: 6px; padding: 0.4rem 0.6rem; margin: 0.4rem 0; white-space: pre-wrap; }
`;
