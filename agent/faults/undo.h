// SPDX-License-Identifier: Apache-2.0
// Undo steps: how a fault is removed without its Fault object. The journal, the guard process and start-up recovery
// all run them through runUndo(), so there is one implementation of "take it out and check it is gone".
//
// Steps (JSON objects in an array, run in order, every one attempted even if an earlier one failed):
//   {"op":"nft_table","name":"xdc_f1"}                       delete table inet NAME
//   {"op":"ipt_chain","table":"mangle","chain":"XDC_f1","hooks":["OUTPUT","INPUT"],"v6":true}
//                                                            unhook, flush and delete an iptables (and ip6tables) chain
//   {"op":"tc_qdisc","dev":"eth0","parent":"root","handle":"dc01:"}  delete our qdisc (only if the handle matches)
//   {"op":"tc_qdisc","dev":"eth0","parent":"ingress"}        delete the ingress qdisc
//   {"op":"link","name":"xdcifb0"}                           delete a link we created
//   {"op":"cont","pids":[[pid,starttime],...]}               SIGCONT each (if still the same process)
//   {"op":"kill","pids":[[pid,starttime],...]}               SIGKILL each and wait until it is gone
//   {"op":"unlink","path":"/var/tmp/xdc-fill-f1"}             remove a file we created
#pragma once

#include <string>
#include <vector>

#include "agent/faults/fault.h"

namespace xdc::agent {

// Runs every step and verifies each. Fails (naming every step that could not be verified) if anything is left.
// effectiveNs (optional): the wall time the last kernel change was made, before its read-back; 0 if there was
// nothing left to remove.
Result<void> runUndo(const Undo &steps, int64_t *effectiveNs = nullptr);

// Removes objects of ours that no journal names (a crash between kernel change and journal is impossible by
// construction, but a deleted state dir is not): nft tables "xdc_*", iptables chains "XDC_*", root qdiscs with
// handle dc01:, links "xdcifb*". Returns what it removed.
std::vector<std::string> sweepOwnObjects();

// What of ours is on this host, touching nothing: the objects sweepOwnObjects() would remove, fill files
// (xdc-fill-*) under the disk_fill allow-list, and stopped (state T) processes in the agent's network namespace.
// Faults in place own some of these; the caller (fault.residue) reports them beside the running faults.
std::vector<std::string> findOwnObjects(const FaultEnv &env);

// Helpers for faults.
Undo pidList(const std::vector<std::pair<int, uint64_t>> &pids);

} // namespace xdc::agent
