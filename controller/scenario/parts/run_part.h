// SPDX-License-Identifier: Apache-2.0
// One part of a scenario run (recording, faults, Streams, metrics, data, residue): what it puts in place, what it
// checks at phase boundaries, what it adds to the report and what it takes down. The Run (runner.cpp) creates the
// parts the scenario needs, in a fixed order, and drives them all through the same lifecycle:
//
//   prepare()                       in order, before the first phase; the first false ends the run (teardown follows)
//   phaseBegin(p) ... phaseEnd(p)   for each phase that runs (setup, baseline, inject, observe, recover)
//   teardown()                      in order, once, whatever happened before (also after a failed prepare)
//   report()                        in order, once, after every part's teardown
//
// Contracts every part keeps:
//  - A method that returns false has set the run's verdict (RunContext::setVerdict) and said why.
//  - teardown() is safe to call when prepare() failed or was never called, and leaves nothing of the run in place
//    (a fault reverted, a recording stopped, a generator stopped and drained); it never throws.
//  - report() only writes the part's own section of the report (`faults`, `streams`, `data`, `metrics`,
//    `evidence`, `residue`), and may read what parts before it in the order wrote.
//  - A part reaches another only through the RunContext's pointers, which are null for parts the scenario does not
//    use.
#pragma once

#include <string>

#include "controller/scenario/parts/context.h"

namespace xdc::scenario {

class RunPart {
public:
	explicit RunPart(RunContext &c) : c_(c) {}
	virtual ~RunPart() = default;
	RunPart(const RunPart &) = delete;
	RunPart &operator=(const RunPart &) = delete;

	// The part's name in logs ("recording", "faults", ...).
	virtual const char *name() const = 0;
	// Puts the part in place before the first phase (start following Streams, start the generator, ...).
	virtual bool prepare() { return true; }
	// At the start of a phase; false ends the run (the phase is ended by the part with its status).
	virtual bool phaseBegin(const std::string &phase) { (void)phase; return true; }
	// At the end of a phase that ran to its end (before its status is written); false fails the phase.
	virtual bool phaseEnd(const std::string &phase) { (void)phase; return true; }
	// Takes down what the part put in place.
	virtual void teardown() {}
	// Writes the part's section of the report.
	virtual void report() {}

protected:
	RunContext &c_;
};

} // namespace xdc::scenario
