package provisioner

// FetchesInFlight is how many fallback fetches hold a slot now (the agent
// exports it as a gauge: at the bound, disk requests queue).
func (b *RBD) FetchesInFlight() int { return len(b.fetches) }

// FetchSlots is the bound on fetches at once (--max-fetches).
func (b *RBD) FetchSlots() int { return cap(b.fetches) }

// FetchesInFlight is how many fallback fetches hold a slot now.
func (l *Local) FetchesInFlight() int { return len(l.fetches) }

// FetchSlots is the bound on fetches at once (--max-fetches).
func (l *Local) FetchSlots() int { return cap(l.fetches) }
