// Ansible's tag selection: --tags selects, --skip-tags removes; 'always' runs unless skipped by name;
// 'never' runs only when asked for by name.
export interface TagFilter {
  only: string[];
  skip: string[];
}

export function tagsSelected(taskTags: string[], filter: TagFilter): boolean {
  const tags = new Set(taskTags);
  if (filter.skip.some((t) => tags.has(t))) return false;
  if (filter.skip.includes('all')) return false;
  if (filter.only.length === 0 || filter.only.includes('all')) return !tags.has('never');
  if (tags.has('always')) return true;
  if (filter.only.includes('tagged') && tags.size > 0) return true;
  if (filter.only.includes('untagged') && tags.size === 0) return true;
  return filter.only.some((t) => tags.has(t));
}
