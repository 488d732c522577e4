/**
 * What the variable part of one RPC answer (replayed events, a page of members) stays under, in
 * JSON characters: at most three bytes each in UTF-8, so an answer stays inside NATS's default
 * 1 MB payload with room for the rest of its envelope. Larger answers are sent in pages.
 */
export const RPC_ANSWER_BUDGET_CHARS = 256 * 1024;
