# winch vs Ruby Sidekiq, side by side on one throwaway Redis. Run it with bench/run.sh, which
# builds what is needed and sets the variables below (documented there).
#
# Not a test: nothing here asserts a time. It fails only when a run is wrong (a worker that
# died, or stat:processed differing from the number of jobs pushed after a clean stop).

require "fileutils"
require "json"
require "redis"
require "rbconfig"
require "socket"
require "tmpdir"
require "sidekiq"

Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

ROOT = File.expand_path("..", __dir__)
TMP = ENV.fetch("BENCH_TMP") { Dir.mktmpdir("winch-bench-") }
WINCH = ENV.fetch("WINCH", File.join(ROOT, "build", "winch"))
PROXY = ENV["BENCH_PROXY"].to_s # the delayproxy binary; empty: no 1 ms RTT run
JOBS = Integer(ENV.fetch("BENCH_JOBS", "100000"))
CONC = Integer(ENV.fetch("BENCH_C", "25"))
CORES = Integer(ENV.fetch("BENCH_CORES") { `nproc`.strip })
DIGEST_JOBS = Integer(ENV.fetch("BENCH_DIGEST_JOBS", "1000"))
DIGEST_ROUNDS = Integer(ENV.fetch("BENCH_DIGEST_ROUNDS", "2000"))
LAT_JOBS = Integer(ENV.fetch("BENCH_LAT_JOBS", "300"))
DELAY_JOBS = Integer(ENV.fetch("BENCH_DELAY_JOBS", "20000"))
DELAY_US = Integer(ENV.fetch("BENCH_DELAY_US", "500"))
WORKERS = ENV.fetch("BENCH_WORKERS", "sidekiq,winch").split(",").map(&:to_sym)
BATCH = 1000
QUEUE = "queue:default"

def mono = Process.clock_gettime(Process::CLOCK_MONOTONIC)

def say(msg)
  warn "bench: #{msg}"
end

def free_port
  s = TCPServer.new("127.0.0.1", 0)
  s.addr[1]
ensure
  s&.close
end

def wait_port(port, timeout = 5)
  deadline = mono + timeout
  loop do
    TCPSocket.new("127.0.0.1", port).close
    return true
  rescue SystemCallError
    return false if mono > deadline
    sleep 0.02
  end
end

$children = []
at_exit do
  $children.each do |pid|
    Process.kill("KILL", pid)
    Process.waitpid(pid)
  rescue SystemCallError
  end
end

# ---- Redis ---------------------------------------------------------------------------------

REDIS_PORT = free_port
FileUtils.mkdir_p(File.join(TMP, "redis"))
redis_pid = Process.spawn("redis-server", "--save", "", "--appendonly", "no", "--port", REDIS_PORT.to_s,
  "--bind", "127.0.0.1", "--daemonize", "no", "--dir", File.join(TMP, "redis"),
  out: [File.join(TMP, "redis.log"), "w"], err: [:child, :out])
$children << redis_pid
abort "bench: redis-server did not start (#{TMP}/redis.log)" unless wait_port(REDIS_PORT)
REDIS_URL = "redis://127.0.0.1:#{REDIS_PORT}/0"
R = Redis.new(url: REDIS_URL, timeout: 30)
R2 = Redis.new(url: REDIS_URL, timeout: 30) # for BRPOP
Sidekiq.configure_client { |c| c.redis = {url: REDIS_URL, size: 2} }

# ---- workers -------------------------------------------------------------------------------

# Both workers log at warn: no line per job (Sidekiq and winch both log two per job at info).
BOOT = File.join(TMP, "boot.rb")
File.write(BOOT, <<~RUBY)
  require #{File.join(ROOT, "tests", "support", "winch_jobs.rb").inspect}
  Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
  Sidekiq.logger.level = Logger::WARN
RUBY

SIDEKIQ_BIN = ENV["SIDEKIQ"] || %w[/usr/bin/sidekiq /usr/local/bin/sidekiq].find { |p| File.exist?(p) }

def worker_cmd(kind, c)
  common = ["-c", c.to_s, "-q", "default", "-t", "25"]
  case kind
  when :sidekiq then [RbConfig.ruby, SIDEKIQ_BIN, "-r", BOOT, *common]
  when :winch then [WINCH, *common, "--log-level", "warn"]
  end
end

# Samples VmRSS (and the kernel's VmHWM) of a pid every 50 ms; keeps the peak in kB.
class Sampler
  attr_reader :peak_kb

  def initialize(pid)
    @pid = pid
    @peak_kb = 0
    @thread = Thread.new do
      loop do
        sample
        sleep 0.05
      end
    end
  end

  def sample
    s = File.read("/proc/#{@pid}/status")
    rss = s[/^VmRSS:\s+(\d+)/, 1].to_i
    hwm = s[/^VmHWM:\s+(\d+)/, 1].to_i
    @peak_kb = [@peak_kb, rss, hwm].max
  rescue SystemCallError
  end

  def stop
    sample
    @thread.kill
    @thread.join
  end
end

Run = Struct.new(:kind, :c, :jobs, :wall, :from_first, :cpu, :peak_kb, keyword_init: true) do
  def rate = jobs / wall
  def rate_first = jobs / from_first
  def cpu_per_k = cpu / jobs * 1000.0
  def rss_mb = peak_kb / 1024.0
end

def push_bulk(klass, args_list)
  args_list.each_slice(BATCH) { |slice| Sidekiq::Client.push_bulk("class" => klass, "args" => slice) }
end

def spawn_worker(kind, c, url, label)
  log = File.join(TMP, "#{label}-#{kind}.log")
  pid = Process.spawn({"REDIS_URL" => url}, *worker_cmd(kind, c), out: [log, "w"], err: [:child, :out],
    in: File::NULL, chdir: TMP, pgroup: true)
  $children << pid
  [pid, log]
end

def stop_worker(pid, log)
  Process.kill("TERM", pid)
  _, st = Process.waitpid2(pid)
  $children.delete(pid)
  raise "worker #{pid} exited with #{st.inspect}; log #{log}" unless st.success?
end

# Pushes the jobs, starts the worker, and times it from its start until the queue is empty.
# After a clean TERM, stat:processed must equal the number of jobs pushed.
def timed_run(kind, c, klass, args_list, label:, url: REDIS_URL)
  R.flushall
  n = args_list.size
  push_bulk(klass, args_list)
  raise "pushed #{R.llen(QUEUE)} of #{n}" unless R.llen(QUEUE) == n
  t_before = Process.times
  t0 = mono
  pid, log = spawn_worker(kind, c, url, label)
  sampler = Sampler.new(pid)
  first = nil
  loop do
    len = R.llen(QUEUE)
    first ||= mono if len < n
    break if len.zero?
    raise "#{kind} died; log #{log}" if Process.waitpid(pid, Process::WNOHANG)
    sleep 0.002
  end
  t_empty = mono
  sampler.stop
  stop_worker(pid, log)
  t_after = Process.times
  cpu = (t_after.cutime - t_before.cutime) + (t_after.cstime - t_before.cstime)
  processed = R.get("stat:processed").to_i
  raise "#{kind} #{label}: stat:processed #{processed}, pushed #{n} (log #{log})" unless processed == n
  run = Run.new(kind: kind, c: c, jobs: n, wall: t_empty - t0, from_first: t_empty - first, cpu: cpu,
    peak_kb: sampler.peak_kb)
  say format("%-8s %-10s -c %-3d %7d jobs  %9.0f jobs/s (%9.0f from first fetch)  %6.1f MB  %.3f CPU s/1000",
    kind, label, c, n, run.rate, run.rate_first, run.rss_mb, run.cpu_per_k)
  run
end

# Idle latency: one Winch::Echo at a time to an idle worker; push-to-reply time as seen by a
# client that pushes with Sidekiq::Client.push and waits with BRPOP on the reply queue.
def latency_run(kind, c, label: "latency")
  R.flushall
  pid, log = spawn_worker(kind, c, REDIS_URL, label)
  # warm up: wait for the first reply
  Sidekiq::Client.push("class" => "Winch::Echo", "args" => ["bench-replies", "warm"])
  raise "#{kind}: no warm-up reply; log #{log}" unless R2.brpop("queue:bench-replies", timeout: 30)
  samples = []
  LAT_JOBS.times do |i|
    sleep 0.02 # idle: the worker is back in its blocking fetch
    t0 = mono
    Sidekiq::Client.push("class" => "Winch::Echo", "args" => ["bench-replies", i])
    raise "#{kind}: no reply; log #{log}" unless R2.brpop("queue:bench-replies", timeout: 10)
    samples << (mono - t0) * 1000.0
  end
  stop_worker(pid, log)
  samples.sort!
  pct = ->(p) { samples[[(samples.size * p).ceil - 1, 0].max] }
  res = {p50: pct.(0.50), p99: pct.(0.99)}
  say format("%-8s latency -c %d: p50 %.3f ms p99 %.3f ms", kind, c, res[:p50], res[:p99])
  res
end

def redis_ceiling
  out = `redis-benchmark -h 127.0.0.1 -p #{REDIS_PORT} -q -n 200000 -P 16 -t lpush,rpop 2>&1`
  res = {}
  out.split(/[\r\n]+/).each do |line|
    res[$1.downcase.to_sym] = $2.to_f if line =~ /^(LPUSH|RPOP):\s+([\d.]+) requests per second/
  end
  say "redis-benchmark: #{res.inspect}"
  res
end

def start_proxy
  return nil if PROXY.empty?
  port = free_port
  pid = Process.spawn(PROXY, port.to_s, REDIS_PORT.to_s, DELAY_US.to_s,
    out: [File.join(TMP, "proxy.log"), "w"], err: [:child, :out])
  $children << pid
  raise "delayproxy did not start" unless wait_port(port)
  # measure the RTT through it
  pr = Redis.new(url: "redis://127.0.0.1:#{port}/0")
  pr.ping
  t = mono
  20.times { pr.ping }
  rtt = (mono - t) / 20 * 1000.0
  pr.close
  say format("delayproxy on port %d: PING round trip %.2f ms", port, rtt)
  [pid, port, rtt]
end

# ---- the runs ------------------------------------------------------------------------------

results = Hash.new { |h, k| h[k] = {} }
noop = Array.new(JOBS) { [] }
digest = Array.new(DIGEST_JOBS) { |i| ["winch-#{i}", DIGEST_ROUNDS] }

ceiling = redis_ceiling
WORKERS.each do |kind|
  results[:noop][kind] = timed_run(kind, CONC, "Winch::Noop", noop, label: "noop")
  results[:digest1][kind] = timed_run(kind, 1, "Winch::Digest", digest, label: "digest-c1")
  results[:digestn][kind] = timed_run(kind, CORES, "Winch::Digest", digest, label: "digest-c#{CORES}")
  results[:latency][kind] = latency_run(kind, CONC)
end
proxy = start_proxy
if proxy
  WORKERS.each do |kind|
    results[:delay][kind] = timed_run(kind, CONC, "Winch::Noop", noop.first(DELAY_JOBS), label: "noop-rtt",
      url: "redis://127.0.0.1:#{proxy[1]}/0")
  end
end
ceiling2 = redis_ceiling

# ---- the table -----------------------------------------------------------------------------

def n(x) = x.round.to_s.reverse.scan(/\d{1,3}/).join(",").reverse
def f(x, d = 2) = format("%.#{d}f", x)

rows = []
row = lambda do |label, key, fmt, &get|
  s, w = results[key][:sidekiq], results[key][:winch]
  sv = s && get.(s)
  wv = w && get.(w)
  ratio = (sv && wv && sv != 0) ? format("%.2f", wv / sv) : ""
  rows << [label, sv ? fmt.(sv) : "", wv ? fmt.(wv) : "", ratio]
end
row.(format("no-op, %s jobs, -c %d: jobs/s (worker start to empty queue)", n(JOBS), CONC), :noop, method(:n)) { |r| r.rate }
row.("no-op: jobs/s from the first fetch to empty queue", :noop, method(:n)) { |r| r.rate_first }
row.("no-op: peak RSS, MB", :noop, ->(x) { f(x, 1) }) { |r| r.rss_mb }
row.("no-op: CPU seconds per 1,000 jobs", :noop, ->(x) { f(x, 3) }) { |r| r.cpu_per_k }
row.(format("Digest %s rounds, %s jobs, -c 1: jobs/s", n(DIGEST_ROUNDS), n(DIGEST_JOBS)), :digest1, method(:n)) { |r| r.rate }
row.(format("Digest, -c %d: jobs/s", CORES), :digestn, method(:n)) { |r| r.rate }
row.(format("Digest, -c %d: jobs/s from the first fetch", CORES), :digestn, method(:n)) { |r| r.rate_first }
row.(format("Digest, -c %d: CPU seconds per 1,000 jobs", CORES), :digestn, ->(x) { f(x, 3) }) { |r| r.cpu_per_k }
row.(format("Digest, -c %d: peak RSS, MB", CORES), :digestn, ->(x) { f(x, 1) }) { |r| r.rss_mb }
if results[:digest1][:sidekiq] && results[:digestn][:sidekiq] || results[:digest1][:winch] && results[:digestn][:winch]
  sc = results[:digestn][:sidekiq] && results[:digestn][:sidekiq].rate / results[:digest1][:sidekiq].rate
  wc = results[:digestn][:winch] && results[:digestn][:winch].rate / results[:digest1][:winch].rate
  rows << [format("Digest: -c %d / -c 1", CORES), sc ? f(sc) : "", wc ? f(wc) : "", ""]
end
row.(format("idle latency p50, ms (Echo, push to reply via BRPOP, %d jobs)", LAT_JOBS), :latency, ->(x) { f(x, 3) }) { |r| r[:p50] }
row.("idle latency p99, ms (same)", :latency, ->(x) { f(x, 3) }) { |r| r[:p99] }
if proxy
  row.(format("no-op at %.2f ms RTT (bench/delayproxy), %s jobs, -c %d: jobs/s", proxy[2], n(DELAY_JOBS), CONC), :delay, method(:n)) { |r| r.rate }
  row.("no-op at that RTT: jobs/s from the first fetch", :delay, method(:n)) { |r| r.rate_first }
end
lp = [ceiling[:lpush], ceiling2[:lpush]].compact
rp = [ceiling[:rpop], ceiling2[:rpop]].compact
rows << ["Redis ceiling: redis-benchmark -n 200000 -P 16, LPUSH/s (before, after)", lp.map { |x| n(x) }.join(", "), "", ""]
rows << ["Redis ceiling: redis-benchmark -n 200000 -P 16, RPOP/s (before, after)", rp.map { |x| n(x) }.join(", "), "", ""]

table = +"| measure | Ruby Sidekiq 6.4.1 | winch | winch / Sidekiq |\n| --- | ---: | ---: | ---: |\n"
rows.each { |r| table << "| #{r.join(" | ")} |\n" }

File.write(File.join(TMP, "table.md"), table)
# data for the plot: label, sidekiq jobs/s, winch jobs/s
plot = [["no-op -c #{CONC}", :noop], ["Digest -c 1", :digest1], ["Digest -c #{CORES}", :digestn]]
plot << ["no-op at 1 ms RTT", :delay] if proxy
File.write(File.join(TMP, "plot.dat"), plot.map { |label, key|
  "\"#{label}\" #{results[key][:sidekiq]&.rate || 0} #{results[key][:winch]&.rate || 0}"
}.join("\n") + "\n")
puts table
