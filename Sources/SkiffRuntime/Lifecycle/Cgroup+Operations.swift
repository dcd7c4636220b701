import Glibc
import SkiffSpec
import SkiffSystem

/// Container operations that work on its cgroup: pause, resume, update, ps, events.
extension Container {
    /// Freezes the container (runc: from created or running only).
    public func pause() throws(RuntimeError) {
        let lock = try store.lock(id)
        defer { lock.close() }
        let status = self.status
        guard status.canPause else { throw RuntimeError("container not running") }
        try Cgroups.freeze(state.cgroupPaths)
    }

    /// Thaws a paused container.
    public func resume() throws(RuntimeError) {
        let lock = try store.lock(id)
        defer { lock.close() }
        guard status == .paused else { throw RuntimeError("container not paused") }
        try Cgroups.unfreeze(state.cgroupPaths)
    }

    /// Merges `resources` into the container's resources (see `LinuxResources.merging`),
    /// writes the result to its cgroup (device rules are left alone, as runc does) and records
    /// it in the state so later updates start from it.
    public mutating func update(resources: LinuxResources) throws(RuntimeError) {
        let lock = try store.lock(id)
        defer { lock.close() }
        if status == .stopped { throw RuntimeError("container not running") }
        var config = try state.config()
        let merged = (config.linux?.resources ?? LinuxResources()).merging(resources)
        let layout = CgroupLayout.host()
        if let unit = state.systemdUnit { try SystemdDriver.update(unit, resources: merged, layout: layout) }
        if resources.cpu?.cpus != nil || resources.cpu?.mems != nil {
            try Cgroups.fillCpusetAncestors(state.cgroupPaths, layout: layout)
        }
        try Cgroups.apply(resources: merged, paths: state.cgroupPaths, layout: layout,
                          context: "update", skipDevices: true)
        if config.linux == nil { config.linux = Linux() }
        config.linux?.resources = merged
        state.setConfig(config)
        try store.save(state)
    }

    /// Host pids of every process in the container's cgroup, ascending.
    public func processes() -> [Int32] {
        Cgroups.pids(state.cgroupPaths)
    }

    /// The `data` of a `stats` event (runc types/events.go shape).
    public func stats() throws(RuntimeError) -> JSONValue {
        if status == .stopped { throw RuntimeError("container with id \(id) is not running") }
        return Cgroups.stats(paths: state.cgroupPaths, layout: CgroupLayout.host())
    }

    /// How many times the kernel's OOM killer has struck in the container's memory cgroup
    /// (v1 memory.oom_control / v2 memory.events `oom_kill`); nil without a memory cgroup.
    public func oomKillCount() -> UInt64? {
        Cgroups.oomKillCount(paths: state.cgroupPaths, layout: CgroupLayout.host())
    }

    /// True while any of the container's cgroup directories exists.
    public var cgroupExists: Bool {
        state.cgroupPaths.contains { FileSystem.isDirectory($0) }
    }
}

extension Cgroups {
    public static func oomKillCount(paths: [String], layout: CgroupLayout) -> UInt64? {
        let targets = resolveTargets(paths: paths, layout: layout)
        switch targets["memory"] {
        case .v1(let dir)?:
            guard let text = read(dir, "memory.oom_control") else { return nil }
            return keyValues(text).first { $0.0 == "oom_kill" }?.1 ?? 0
        case .v2(let dir)?:
            guard let text = read(dir, "memory.events") else { return nil }
            return keyValues(text).first { $0.0 == "oom_kill" }?.1 ?? 0
        default:
            return nil
        }
    }
}

extension LinuxResources {
    /// PURE. `runc update` semantics: fields set in `update` replace the current ones, the
    /// rest stay. Memory limit -1 without a swap also clears the swap (so it becomes
    /// unlimited too); block I/O per-device entries are upserted by major:minor; unified keys
    /// are merged. Device rules are not updatable (kept as they are).
    public func merging(_ update: LinuxResources) -> LinuxResources {
        var r = self
        if let m = update.memory {
            var cur = r.memory ?? LinuxMemory()
            if let v = m.limit {
                cur.limit = v
                if v == -1 && m.swap == nil { cur.swap = nil }
            }
            if let v = m.reservation { cur.reservation = v }
            if let v = m.swap { cur.swap = v }
            if let v = m.kernel { cur.kernel = v }
            if let v = m.kernelTCP { cur.kernelTCP = v }
            if let v = m.swappiness { cur.swappiness = v }
            if let v = m.disableOOMKiller { cur.disableOOMKiller = v }
            if let v = m.useHierarchy { cur.useHierarchy = v }
            if let v = m.checkBeforeUpdate { cur.checkBeforeUpdate = v }
            r.memory = cur
        }
        if let c = update.cpu {
            var cur = r.cpu ?? LinuxCPU()
            if let v = c.shares { cur.shares = v }
            if let v = c.quota { cur.quota = v }
            if let v = c.burst { cur.burst = v }
            if let v = c.period { cur.period = v }
            if let v = c.realtimeRuntime { cur.realtimeRuntime = v }
            if let v = c.realtimePeriod { cur.realtimePeriod = v }
            if let v = c.cpus, !v.isEmpty { cur.cpus = v }
            if let v = c.mems, !v.isEmpty { cur.mems = v }
            if let v = c.idle { cur.idle = v }
            r.cpu = cur
        }
        if let p = update.pids, p.limit != 0 { r.pids = p }
        if let b = update.blockIO {
            var cur = r.blockIO ?? LinuxBlockIO()
            if let v = b.weight { cur.weight = v }
            if let v = b.leafWeight { cur.leafWeight = v }
            for wd in b.weightDevice ?? [] {
                var list = cur.weightDevice ?? []
                if let i = list.lastIndex(where: { $0.major == wd.major && $0.minor == wd.minor }) {
                    if let w = wd.weight { list[i].weight = w }
                    if let w = wd.leafWeight { list[i].leafWeight = w }
                } else {
                    list.append(wd)
                }
                cur.weightDevice = list
            }
            func upsert(_ list: [LinuxThrottleDevice]?, _ new: [LinuxThrottleDevice]?) -> [LinuxThrottleDevice]? {
                guard let new, !new.isEmpty else { return list }
                var out = list ?? []
                for d in new {
                    if let i = out.lastIndex(where: { $0.major == d.major && $0.minor == d.minor }) { out[i].rate = d.rate } else { out.append(d) }
                }
                return out
            }
            cur.throttleReadBpsDevice = upsert(cur.throttleReadBpsDevice, b.throttleReadBpsDevice)
            cur.throttleWriteBpsDevice = upsert(cur.throttleWriteBpsDevice, b.throttleWriteBpsDevice)
            cur.throttleReadIOPSDevice = upsert(cur.throttleReadIOPSDevice, b.throttleReadIOPSDevice)
            cur.throttleWriteIOPSDevice = upsert(cur.throttleWriteIOPSDevice, b.throttleWriteIOPSDevice)
            r.blockIO = cur
        }
        if let h = update.hugepageLimits {
            var list = r.hugepageLimits ?? []
            for l in h {
                if let i = list.firstIndex(where: { $0.pageSize == l.pageSize }) { list[i] = l } else { list.append(l) }
            }
            r.hugepageLimits = list
        }
        if let n = update.network {
            var cur = r.network ?? LinuxNetwork()
            if let v = n.classID { cur.classID = v }
            if let v = n.priorities { cur.priorities = v }
            r.network = cur
        }
        if let rdma = update.rdma { r.rdma = (r.rdma ?? [:]).merging(rdma) { _, new in new } }
        if let u = update.unified { r.unified = (r.unified ?? [:]).merging(u) { _, new in new } }
        return r
    }
}
