// Check mode predicts: a changed result's message says what would happen, not what happened. Modules word
// their messages as done ("file created", "content changed"); the engine, which knows the task ran in
// check mode, turns them into predictions in one place ("file would be created").
const DONE =
  /\b(created|removed|changed|replaced|added|updated|deleted|restarted|started|stopped|installed|written|enabled|disabled)\b/;

export function predicted(msg: string): string {
  if (/^would\b/i.test(msg) || /\bwould\b/.test(msg)) return msg;
  return msg.replace(DONE, 'would be $1');
}
