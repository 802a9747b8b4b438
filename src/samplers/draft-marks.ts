// A leaf module (no imports): the progress marks cross the worker boundary, and the UI reads them
// through src/worker/protocol.ts without pulling the samplers into its bundle.
/**
 * ASSD and speculative decoding, per position in `StepProgress.drafts` (batch, length): what the last
 * round did there (speculative decoding has no EXACT draft: all its drafts come from the draft model).
 * EXACT: x̃_0 (an exact draw); ACCEPTED: a draft kept by the accept test; REJECTED: a draft rejected
 * and replaced by a draw from the residual; BONUS: the extra token after all drafts were accepted;
 * DISCARDED: drafted past a rejection, back to undecided. 0: untouched this round.
 */
export const DRAFT_MARK = { EXACT: 1, ACCEPTED: 2, REJECTED: 3, BONUS: 4, DISCARDED: 5 } as const;
