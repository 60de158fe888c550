"""BPF helper function ids (include/uapi/linux/bpf.h: `enum bpf_func_id`, the
`___BPF_FUNC_MAPPER` list; numbers are positions in that list and never change)."""
from __future__ import annotations

from enum import IntEnum


class BpfFunc(IntEnum):
    map_lookup_elem = 1
    map_update_elem = 2
    map_delete_elem = 3
    probe_read = 4
    ktime_get_ns = 5
    trace_printk = 6
    get_prandom_u32 = 7
    get_smp_processor_id = 8
    get_current_pid_tgid = 14
    get_current_uid_gid = 15
    get_current_comm = 16
    perf_event_output = 25
    get_stackid = 27
    get_current_task = 35
    get_numa_node_id = 42
    probe_read_str = 45
    get_stack = 67
    get_current_cgroup_id = 80
    send_signal = 109
    probe_read_user = 112
    probe_read_kernel = 113
    probe_read_user_str = 114
    probe_read_kernel_str = 115
    jiffies64 = 118
    ktime_get_boot_ns = 125
    ringbuf_output = 130
    ringbuf_reserve = 131
    ringbuf_submit = 132
    ringbuf_discard = 133
    get_func_ip = 173
    map_lookup_percpu_elem = 195
    ktime_get_tai_ns = 208


# include/uapi/linux/bpf.h: flags of bpf_map_update_elem
BPF_ANY = 0
BPF_NOEXIST = 1
BPF_EXIST = 2
# include/uapi/linux/bpf.h: flags of bpf_get_stackid
BPF_F_USER_STACK = 1 << 8
