# Test harness for the Ruby interop suite: a throwaway redis-server, the Sidekiq client and
# API pointed at it, and the worker under test (Ruby `sidekiq` or `winch`) as a child process.
#
#   WORKER=sidekiq|winch   the worker under test (default sidekiq)
#   WINCH=path             the winch binary (default <repo>/build/winch)
#   WINCH_ARGS="..."       extra arguments for winch (shell words)
#   POLL_INTERVAL=secs     scheduled-set poll interval given to the worker (default 1)
#   REDIS_SERVER=path      redis-server binary (default: from PATH)
#   KEEP_TMP=1             keep the temporary directory (logs, redis dir) after exit
#
# Every process this file starts is stopped at exit. Only the Sidekiq client and API are
# loaded here: tests enqueue by class name, as an app that does not have the job's code would.
# Harness::TestCase (a minitest base class) exists when minitest is required before this file.

require "fileutils"
require "json"
require "redis"
require "rbconfig"
require "shellwords"
require "socket"
require "tmpdir"
require "sidekiq"
require "sidekiq/api"

# redis-rb 4.8 warns about calls Sidekiq 6.4.1 makes; keep logs readable.
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

module Harness
  ROOT = File.expand_path("../..", __dir__)
  SUPPORT = File.expand_path(__dir__)

  class Error < StandardError; end

  module_function

  # ---- settings -------------------------------------------------------------------------

  def worker_kind
    kind = ENV.fetch("WORKER", "sidekiq")
    raise Error, "WORKER must be sidekiq or winch, not #{kind.inspect}" unless %w[sidekiq winch].include?(kind)
    kind
  end

  def winch?
    worker_kind == "winch"
  end

  def winch_path
    ENV["WINCH"] || File.join(ROOT, "build", "winch")
  end

  def poll_interval
    ENV.fetch("POLL_INTERVAL", "1")
  end

  def hostname
    ENV["DYNO"] || Socket.gethostname
  end

  def tmpdir
    @tmpdir ||= begin
      dir = Dir.mktmpdir("winch-interop-")
      at_exit { FileUtils.rm_rf(dir) unless ENV["KEEP_TMP"] }
      dir
    end
  end

  # ---- waiting --------------------------------------------------------------------------

  # Polls the block until it returns a truthy value, which is returned; nil on timeout.
  def wait_until(timeout = 10, interval: 0.05)
    deadline = monotonic + timeout
    loop do
      value = yield
      return value if value
      return nil if monotonic >= deadline
      sleep interval
    end
  end

  def monotonic
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # ---- redis ----------------------------------------------------------------------------

  def free_port
    server = TCPServer.new("127.0.0.1", 0)
    server.addr[1]
  ensure
    server&.close
  end

  # Starts the throwaway redis-server once per test process and points Sidekiq at it.
  def start_redis
    return @redis_url if @redis_url

    dir = File.join(tmpdir, "redis")
    FileUtils.mkdir_p(dir)
    3.times do
      port = free_port
      log = File.join(dir, "redis.log")
      pid = Process.spawn(ENV.fetch("REDIS_SERVER", "redis-server"),
        "--save", "", "--appendonly", "no", "--port", port.to_s, "--bind", "127.0.0.1",
        "--daemonize", "no", "--dir", dir,
        out: [log, "a"], err: [:child, :out], chdir: dir)
      url = "redis://127.0.0.1:#{port}/0"
      up = wait_until(5) {
        break nil if Process.waitpid(pid, Process::WNOHANG)
        begin
          Redis.new(url: url, timeout: 0.5).ping == "PONG"
        rescue Redis::BaseConnectionError
          false
        end
      }
      if up
        @redis_pid = pid
        @redis_url = url
        at_exit { stop_redis }
        Sidekiq.configure_client { |c| c.redis = {url: url, size: 5} }
        ENV["REDIS_URL"] = url
        return url
      end
      begin
        Process.kill("KILL", pid)
        Process.waitpid(pid)
      rescue Errno::ESRCH, Errno::ECHILD
      end
    end
    raise Error, "could not start redis-server (see #{dir}/redis.log)"
  end

  def stop_redis
    return unless @redis_pid
    stop_all_workers
    begin
      Process.kill("TERM", @redis_pid)
      Process.waitpid(@redis_pid)
    rescue Errno::ESRCH, Errno::ECHILD
    end
    @redis_pid = nil
  end

  def redis_url
    start_redis
  end

  # A raw connection for checks below the API (exact bytes, TTLs, key names).
  def redis
    @redis ||= Redis.new(url: redis_url)
  end

  def flush!
    redis.flushall
  end

  # ---- worker under test ----------------------------------------------------------------

  def workers
    @workers ||= []
  end

  # Starts a worker process. kind: :sidekiq or :winch (default: $WORKER).
  # aj: with Ruby sidekiq, load the ActiveJob stand-ins instead of the plain ones (winch
  # serves both kinds of job in one process, so it ignores aj).
  def start_worker(concurrency: 5, queues: ["default"], timeout: 1, tag: nil, verbose: false,
    aj: false, kind: worker_kind, env: {}, args: [])
    start_redis
    kind = kind.to_s
    flags = ["-c", concurrency.to_s]
    queues.each { |q| flags += ["-q", q.to_s] }
    flags += ["-t", timeout.to_s]
    flags += ["-g", tag] if tag
    flags << "-v" if verbose
    if kind == "winch"
      cmd = [winch_path, *flags, "--poll-interval", poll_interval.to_s,
        *Shellwords.split(ENV.fetch("WINCH_ARGS", "")), *args]
      raise Error, "no winch binary at #{winch_path} (build it, or set WINCH)" unless File.executable?(winch_path)
    else
      cmd = [RbConfig.ruby, sidekiq_bin, "-r", boot_file(aj), *flags, *args]
    end
    Worker.new(kind, cmd, {"REDIS_URL" => redis_url}.merge(env)).tap { |w| workers << w }
  end

  def stop_all_workers
    workers.each { |w| w.stop if w.alive? }
    workers.clear
  end

  def sidekiq_bin
    @sidekiq_bin ||= ENV["SIDEKIQ"] || %w[/usr/bin/sidekiq /usr/local/bin/sidekiq].find { |p| File.exist?(p) } ||
      Gem.bin_path("sidekiq", "sidekiq")
  end

  # The file Ruby sidekiq loads with -r: the stand-ins plus the poll interval.
  # In 6.4.1 the poller's first wait is 10 + rand*5 s unless :poll_interval_average is set,
  # then only rand*5 s; the average is memoized from the first poll, so set both.
  def boot_file(aj)
    path = File.join(tmpdir, aj ? "boot_aj.rb" : "boot.rb")
    return path if File.exist?(path)

    jobs = File.join(SUPPORT, aj ? "winch_active_jobs.rb" : "winch_jobs.rb")
    File.write(path, <<~RUBY)
      require #{jobs.inspect}
      Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
      Sidekiq.configure_server do |config|
        config.options[:average_scheduled_poll_interval] = #{Float(poll_interval)}
        config.options[:poll_interval_average] = #{Float(poll_interval)}
      end
    RUBY
    path
  end

  # A worker child process. Output (stdout and stderr) goes to a log file in the tmp dir.
  class Worker
    attr_reader :kind, :pid, :cmd, :log_path, :status

    @@serial = 0

    def initialize(kind, cmd, env)
      @kind = kind
      @cmd = cmd
      @@serial += 1
      @log_path = File.join(Harness.tmpdir, format("worker-%02d-%s.log", @@serial, kind))
      @pid = Process.spawn(env, *cmd, out: [@log_path, "w"], err: [:child, :out],
        in: File::NULL, chdir: Harness.tmpdir, pgroup: true)
      @status = nil
    end

    def alive?
      return false if @status
      reaped = Process.waitpid2(@pid, Process::WNOHANG)
      @status = reaped[1] if reaped
      @status.nil?
    end

    def signal(sig)
      Process.kill(sig, @pid)
    end

    # Waits for the process to exit; returns its Process::Status or nil on timeout.
    def wait_exit(timeout = 15)
      Harness.wait_until(timeout, interval: 0.02) { !alive? }
      @status
    end

    # TERM, then KILL after +timeout+. Returns the Process::Status.
    def stop(timeout: 15)
      return @status unless alive?
      begin
        signal("TERM")
      rescue Errno::ESRCH
      end
      return @status if wait_exit(timeout)
      begin
        Process.kill("KILL", -@pid)
      rescue Errno::ESRCH
      end
      Process.waitpid(@pid) rescue nil
      @status = $? || @status
    end

    def log
      File.exist?(@log_path) ? File.read(@log_path) : ""
    end

    def log_tail(lines = 40)
      log.lines.last(lines).join
    end

    # This process as Sidekiq::ProcessSet shows it (nil while it is not there).
    def process
      Sidekiq::ProcessSet.new(false).find { |p| p["pid"] == @pid && p["hostname"] == Harness.hostname }
    end

    # Waits for the first heartbeat; returns the Sidekiq::Process. Fails if the worker died.
    def wait_registered(timeout = 15)
      found = Harness.wait_until(timeout) {
        raise Error, "worker exited early (#{@status.inspect}):\n#{log_tail}" unless alive?
        process
      }
      raise Error, "worker #{@pid} not in the ProcessSet after #{timeout}s:\n#{log_tail}" unless found
      @identity = found.identity
      found
    end

    def identity
      @identity ||= wait_registered.identity
    end
  end

  # ---- minitest support -----------------------------------------------------------------

  if defined?(Minitest::Test)
    # Base class: a fresh Redis for every test, workers stopped after it, and their logs
    # printed when the test failed.
    class TestCase < Minitest::Test
      make_my_diffs_pretty!

      def setup
        Harness.start_redis
        Harness.flush!
      end

      def teardown
        failed = !passed? && !skipped?
        Harness.workers.each do |w|
          w.stop if w.alive?
          if failed
            puts "\n--- #{w.kind} worker #{w.pid} (#{w.cmd.join(" ")}), exit #{w.status.inspect}, log tail:"
            puts w.log_tail(60)
          end
        end
        Harness.workers.clear
      end

      def redis
        Harness.redis
      end

      # Waits for the block to be truthy and returns its value; fails the test on timeout.
      def wait_for(what, timeout = 10, interval: 0.05, &block)
        value = Harness.wait_until(timeout, interval: interval, &block)
        flunk "timed out after #{timeout}s waiting for #{what}" unless value
        value
      end

      def start_worker(**opts)
        Harness.start_worker(**opts).tap(&:wait_registered)
      end

      def push(klass, args, **opts)
        item = {"class" => klass, "args" => args}
        opts.each { |k, v| item[k.to_s] = v }
        Sidekiq::Client.push(item)
      end

      # Jobs of a queue as raw strings, oldest first (clients LPUSH, workers BRPOP).
      def raw_queue(name)
        redis.lrange("queue:#{name}", 0, -1).reverse
      end

      def replies(name)
        raw_queue(name).map { |s| JSON.parse(s) }
      end

      def stats
        Sidekiq::Stats.new
      end

      # Waits until Stats shows exactly these totals (stats are flushed on the heartbeat).
      def wait_for_stats(processed:, failed:, timeout: 12)
        got = nil
        ok = Harness.wait_until(timeout, interval: 0.1) {
          s = stats
          got = [s.processed, s.failed]
          got == [processed, failed]
        }
        assert ok, "Stats processed/failed: expected #{[processed, failed].inspect}, last seen #{got.inspect}"
      end
    end
  end
end
