// A file's content before and after a change: what modules report and --diff shows.
export interface FileDiff {
  path: string;
  before: string;
  after: string;
}
