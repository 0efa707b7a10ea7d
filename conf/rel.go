package conf

// Rel returns the path of name relative to the configuration's file
// system (FS), resolved as Open resolves it; ok is false for an absolute
// path outside the configuration directory, which lives on the disk.
func (s *Snapshot) Rel(name string) (string, bool) {
	_, rel, ok := s.resolve(name)
	return rel, ok
}
