# Shared support for the integration suite: winch-only checks against a real redis-server,
# with redis-rb and raw bytes rather than the Sidekiq API. Built on tests/support/harness.rb
# (its throwaway redis-server, Worker processes, logs and waiting helpers).
#
#   WINCH=path     the winch binary (default <repo>/build/winch)
#   WINCH_ASAN=1   the binary is a sanitizer build: a test fails if a worker's log (or a
#                  --logfile) holds a sanitizer report ("runtime error", "AddressSanitizer")
require "minitest/autorun"
require "json"
require "open3"
require "securerandom"
require_relative "../support/harness"

if ENV["WINCH_ASAN"] == "1"
  ENV["ASAN_OPTIONS"] ||= "detect_leaks=0:abort_on_error=1"
end

module Integration
  ASAN = ENV["WINCH_ASAN"] == "1"
  SANITIZER_REPORT = /runtime error|AddressSanitizer/
  # Sanitizer builds are slower: waits whose length is not under test get this factor.
  SLOW = ASAN ? 3 : 1

  module_function

  def winch_path
    path = Harness.winch_path
    raise Harness::Error, "no winch binary at #{path} (build it, or set WINCH)" unless File.executable?(path)
    path
  end

  # The environment every winch gets: nothing inherited that changes where it connects.
  def clean_env(url)
    {"REDIS_URL" => url, "REDIS_PROVIDER" => nil, "RAILS_MAX_THREADS" => nil}
  end

  # A redis-server of the test's own, on a port that stays the same across stop and start
  # (for outages). The harness's server is one per process and never restarts.
  class RedisServer
    attr_reader :port, :pid

    # extra: more redis-server arguments, after the defaults (later ones win), e.g. AOF.
    def initialize(port = Harness.free_port, extra: [])
      @port = port
      @extra = extra
      @dir = File.join(Harness.tmpdir, "redis-#{port}")
      FileUtils.mkdir_p(@dir)
      @pid = nil
    end

    def url
      "redis://127.0.0.1:#{@port}/0"
    end

    def client
      Redis.new(url: url, timeout: 2)
    end

    def up?
      !@pid.nil?
    end

    def start(timeout: 5)
      raise Harness::Error, "redis on #{@port} already started" if @pid
      pid = Process.spawn(ENV.fetch("REDIS_SERVER", "redis-server"),
        "--save", "", "--appendonly", "no", "--port", @port.to_s, "--bind", "127.0.0.1",
        "--daemonize", "no", "--dir", @dir, *@extra,
        out: [File.join(@dir, "redis.log"), "a"], err: [:child, :out], chdir: @dir)
      ok = Harness.wait_until(timeout) {
        break nil if Process.waitpid(pid, Process::WNOHANG)
        begin
          Redis.new(url: url, timeout: 0.5).ping == "PONG"
        rescue Redis::BaseConnectionError, Redis::CommandError # LOADING an AOF
          false
        end
      }
      unless ok
        begin
          Process.kill("KILL", pid)
          Process.waitpid(pid)
        rescue Errno::ESRCH, Errno::ECHILD
        end
        raise Harness::Error, "redis-server on port #{@port} did not start (#{@dir}/redis.log)"
      end
      @pid = pid
      self
    end

    # SHUTDOWN NOSAVE, as an operator restarting Redis would; waits for the process to exit.
    def shutdown
      return unless @pid
      begin
        Redis.new(url: url, timeout: 2).shutdown
      rescue Redis::BaseError
        # the connection drops as the server exits
      end
      Harness.wait_until(5) { Process.waitpid(@pid, Process::WNOHANG) }
      kill
    end

    def kill
      return unless @pid
      begin
        Process.kill("KILL", @pid)
        Process.waitpid(@pid)
      rescue Errno::ESRCH, Errno::ECHILD
      end
      @pid = nil
    end
  end

  # Base class: Harness::TestCase (fresh Redis per test, workers stopped, logs printed on
  # failure) plus winch-specific starting, pushing and checking.
  class Test < Harness::TestCase
    def setup
      super
      @servers = []
      @logfiles = []
    end

    def teardown
      Harness.workers.each { |w| w.stop if w.alive? }
      reports = sanitizer_reports
      super
      @servers.each(&:kill)
      flunk "sanitizer report in the worker's log:\n#{reports.join}" if reports.any?
    end

    def sanitizer_reports
      return [] unless ASAN
      texts = Harness.workers.map { |w| [w.log_path, w.log] }
      texts += @logfiles.flat_map { |p| Dir.glob("#{p}*").map { |f| [f, File.read(f)] } }
      texts.filter_map { |path, text|
        lines = text.lines.grep(SANITIZER_REPORT)
        "#{path}:\n#{text}" if lines.any?
      }
    end

    # A redis-server for this test alone (stopped in teardown). start: false leaves it down.
    def redis_server(start: true, extra: [])
      server = RedisServer.new(extra: extra)
      @servers << server
      server.start if start
      server
    end

    # Starts winch with exactly these arguments (nothing added). Returns the Harness::Worker.
    def spawn_winch(*args, url: Harness.redis_url, env: {})
      w = Harness::Worker.new("winch", [Integration.winch_path, *args.map(&:to_s)],
        Integration.clean_env(url).merge(env))
      Harness.workers << w
      w
    end

    # Starts winch and waits until it is in `<ns>processes`; returns [worker, identity].
    # Defaults keep tests fast: -t 1, beats and polls every half second.
    def start_winch(*args, r: redis, namespace: nil, url: Harness.redis_url, env: {}, timeout: 10 * SLOW)
      args = ["-t", "1", "--beat-interval", "0.5", "--poll-interval", "0.5", *args]
      args += ["--namespace", namespace] if namespace
      w = spawn_winch(*args, url: url, env: env)
      identity = wait_registered(w, r: r, namespace: namespace, timeout: timeout)
      [w, identity]
    end

    # The identity under which the worker registered in `<ns>processes`.
    def wait_registered(w, r: redis, namespace: nil, timeout: 10 * SLOW)
      key = namespace ? "#{namespace}:processes" : "processes"
      wait_for("winch #{w.pid} in #{key}", timeout) {
        flunk "winch exited early (#{w.status.inspect}):\n#{w.log_tail}" unless w.alive?
        r.smembers(key).find { |id|
          host, pid, nonce = id.split(":")
          host == Harness.hostname && pid == w.pid.to_s && nonce =~ /\A\h{12}\z/
        }
      }
    end

    def logfile(name = "winch.log")
      path = File.join(Harness.tmpdir, "#{name}-#{SecureRandom.hex(4)}")
      @logfiles << path
      path
    end

    # ---- payloads ---------------------------------------------------------------------

    # A payload as the Ruby client writes it (Sidekiq 6/7: float seconds).
    def job_hash(klass, args, **extra)
      now = Time.now.to_f
      {"retry" => true, "queue" => "default"}.merge(extra.transform_keys(&:to_s))
        .merge("args" => args, "class" => klass, "jid" => SecureRandom.hex(12),
          "created_at" => now, "enqueued_at" => now)
    end

    def lpush_raw(raw, queue: "default", r: redis, namespace: nil)
      key = namespace ? "#{namespace}:queue:#{queue}" : "queue:#{queue}"
      r.lpush(key, raw)
      raw
    end

    # LPUSHes a job; returns [jid, raw string].
    def push_job(klass, args, queue: "default", r: redis, namespace: nil, **extra)
      h = job_hash(klass, args, queue: queue, **extra)
      raw = JSON.generate(h)
      lpush_raw(raw, queue: queue, r: r, namespace: namespace)
      [h["jid"], raw]
    end

    def push_echo(reply_queue = "replies", *rest, **kw)
      push_job("Winch::Echo", [reply_queue, *rest], **kw).first
    end

    # Waits for the Winch::EchoReply to job +jid+ on +queue+; returns its raw string.
    def wait_reply(jid, queue: "replies", r: redis, namespace: nil, timeout: 10 * SLOW)
      key = namespace ? "#{namespace}:queue:#{queue}" : "queue:#{queue}"
      wait_for("the reply to #{jid} on #{key}", timeout) {
        r.lrange(key, 0, -1).find { |s|
          begin
            h = JSON.parse(s, max_nesting: false)
            h["class"] == "Winch::EchoReply" && h["args"].is_a?(Array) && h["args"][0] == jid
          rescue JSON::ParserError
            false
          end
        }
      }
    end

    # Members of a sorted set, lowest score first, with scores.
    def zset(key, r: redis)
      r.zrange(key, 0, -1, with_scores: true)
    end

    # ---- logs and stats ---------------------------------------------------------------

    # Lines of the log at this level ("ERROR", "WARN", "INFO", "DEBUG"), text format.
    def log_lines(w, level, text = w.log)
      text.lines.select { |l| l.include?(" #{level}: ") }
    end

    # Stops the worker (TERM) and returns [Process::Status, processed, failed] as Redis holds
    # them afterwards (stats are flushed at exit).
    def stop_and_stats(w, r: redis, prefix: "")
      status = w.stop(timeout: 15 * SLOW)
      [status, r.get("#{prefix}stat:processed").to_i, r.get("#{prefix}stat:failed").to_i]
    end

    def assert_clean_exit(status, what = "winch")
      refute_nil status, "#{what} exits"
      assert status.exited? && status.exitstatus == 0, "#{what} exits 0: #{status.inspect}"
    end
  end
end
