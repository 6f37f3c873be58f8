# Redis outages (issue 4, "Redis faults"): Redis stopped for 30 s and restarted from its AOF,
# connections killed at random under load, Redis frozen (CLIENT PAUSE, SIGSTOP longer than
# winch's 10 s command timeout), Redis unreachable at start, and a failover that answers
# READONLY. For each one winch must log the outage once (not once per attempt), back off
# (connection attempts counted and bounded by 0.1 s doubling to 5 s, -25 % jitter), reconnect,
# fetch and beat again, and apply after the reconnect the outcomes of the jobs that finished
# during the outage: an ack, a retry, a death, the handler's push, and the counts.
#
# The outcome jobs are Winch::Sleep jobs, so that they are still running when Redis goes
# away: [ms, "replies", label] succeeds and pushes a reply; [ms, 42] sleeps, then fails with
# ArgumentError (42 is not a queue name), with retry: true (retry set) or retry: 0 (dead set).
# A Winch::Fail job fails within microseconds of its fetch, so it cannot be running then.
#
# Each test has its own redis-server(s) and winch, and the tests run in parallel threads
# (parallelize_me!): the file takes about as long as its longest case, the 30 s outage.
require "etc"
require_relative "helper"

Harness.tmpdir # memoized before the threads start

class TestRedisOutages < Integration::Test
  parallelize_me!

  OUTAGE = /WARN: redis at .* unreachable/
  RECOVERY = /INFO: redis is reachable again/
  # One DEBUG line per failed connection or connection attempt (winch -v).
  ATTEMPT = /DEBUG: redis '([^']+)': /
  # rconn.c: reconnect after backoff × [0.75, 1.25), backoff 0.1 s doubling to 5 s; a command
  # gets no reply in 10 s (plus a BLMOVE's block time): the connection is replaced.
  BACKOFF_MIN = 0.1
  BACKOFF_MAX = 5.0
  JITTER = 0.25
  SLEEP_MS = 2000
  SPAWN = Mutex.new
  PRINT = Mutex.new

  # ---- per-test state (the harness's worker list is process-wide; these tests run in threads)

  def setup
    @servers = []
    @logfiles = []
    @workers = []
  end

  def teardown
    failed = !passed? && !skipped?
    @workers.each { |w| w.stop(timeout: 5) if w.alive? }
    @servers.each do |s|
      begin
        Process.kill("CONT", s.pid) if s.pid
      rescue Errno::ESRCH
      end
      s.kill
    end
    if failed
      PRINT.synchronize do
        @workers.each do |w|
          puts "\n--- #{name}: winch #{w.pid} (#{w.cmd.join(" ")}), exit #{w.status.inspect}, log tail:"
          puts w.log_tail(40)
        end
      end
    end
    reports = Integration::ASAN ? @workers.select { |w| w.log =~ Integration::SANITIZER_REPORT } : []
    flunk "sanitizer report in #{reports.map(&:log_path).join(", ")}" if reports.any?
  end

  def spawn_winch(*args, url:, env: {})
    w = SPAWN.synchronize {
      Harness::Worker.new("winch", [Integration.winch_path, *args.map(&:to_s)],
        Integration.clean_env(url).merge(env))
    }
    @workers << w
    w
  end

  # -v: one DEBUG line per connection attempt, which the backoff checks count.
  # --poll-interval 600: no poll during the test, so a retry that comes due during a long
  # outage stays in the retry set, where the test looks for it.
  NO_POLL = ["--poll-interval", "600"].freeze

  def start_winch(*args, r:, url:, timeout: 10 * Integration::SLOW)
    super("-v", *NO_POLL, *args, r: r, url: url, timeout: timeout)
  end

  # ---- measuring ---------------------------------------------------------------------

  # The most connection attempts one connection can make in +seconds+ of outage: the first
  # at once, then each after the shortest delay jitter allows.
  def max_attempts(seconds)
    n = 1
    t = 0.0
    backoff = BACKOFF_MIN
    loop do
      t += backoff * (1 - JITTER)
      break if t > seconds
      n += 1
      backoff = [backoff * 2, BACKOFF_MAX].min
    end
    n
  end

  def connections_received(r)
    r.info("stats")["total_connections_received"].to_i
  end

  # CPU seconds (user + system, all threads) the process has used.
  def cpu_seconds(pid)
    fields = File.read("/proc/#{pid}/stat").split(")").last.split
    (fields[11].to_i + fields[12].to_i) / Float(Etc.sysconf(Etc::SC_CLK_TCK))
  end

  # The worker's log from byte offset +from+ (a mark taken with w.log.bytesize).
  def log_since(w, from)
    w.log.byteslice(from..)
  end

  CONNECTED = /DEBUG: redis '[^']+': connected/

  # The connections lost and attempts that failed (not the successful connects).
  def attempts_in(text)
    text.lines.grep(ATTEMPT).grep_v(CONNECTED)
  end

  # winch's connections: the command connection and one per queue.
  def connection_names(w)
    w.log.lines.filter_map { |l| l[ATTEMPT, 1] }.uniq
  end

  # ---- jobs --------------------------------------------------------------------------

  # Three jobs that will finish during the outage: a success with a reply, a failure that
  # retries, and a failure that dies (retry: 0). Returns {ok:, retry:, dead:} jids.
  def push_outcome_jobs(r, ms = SLEEP_MS)
    {ok: push_job("Winch::Sleep", [ms, "replies", "finished during the outage"], r: r).first,
     retry: push_job("Winch::Sleep", [ms, 42], r: r).first,
     dead: push_job("Winch::Sleep", [ms, 42], r: r, retry: 0).first}
  end

  def wait_started(w, jids)
    jids.each_value { |jid| wait_for("job #{jid} to start", 10) { w.log.include?("jid=#{jid} INFO: start") } }
  end

  # Their end lines are in the log: they finished (while Redis was away).
  def assert_finished(w, jids, text = w.log)
    assert_match(/jid=#{jids[:ok]} elapsed=[\d.]+ INFO: done/, text, "the Sleep job finished during the outage")
    [jids[:retry], jids[:dead]].each do |jid|
      assert_match(/jid=#{jid} elapsed=[\d.]+ INFO: fail/, text, "the failing job finished during the outage")
    end
  end

  # The commands Redis executed, in order, from the server's AOF (when it was started with
  # --appendonly yes), each as an array of strings: to show what was applied twice.
  def aof_commands(server)
    files = Dir.glob(File.join(Harness.tmpdir, "redis-#{server.port}", "appendonlydir", "*.incr.aof")).sort
    files.flat_map { |f|
      data = File.binread(f)
      i = 0
      cmds = []
      while i < data.size && data[i] == "*"
        j = data.index("\r\n", i)
        argv = Array.new(data[i + 1...j].to_i) {
          i = j + 2
          j = data.index("\r\n", i)
          len = data[i + 1...j].to_i
          arg = data[j + 2, len]
          j += 2 + len
          arg
        }
        i = j + 2
        cmds << argv
      end
      cmds
    }
  end

  def wip_left(r)
    r.keys("winch:wip:*").sum { |k| r.llen(k) }
  end

  # After the reconnect: the reply pushed, the retry and the death recorded, every job off
  # the in-progress list, and the counts (+before+: processed, failed before the outage).
  # What is missing fails at once; what is wrong but there (a write applied twice, a count
  # off) is returned as a list of problems, so that a test reports all of them together.
  # replies: how many replies to the Sleep job are acceptable.
  def outcome_problems(r, jids, before: [0, 0], replies: 1..1)
    reply = JSON.parse(wait_reply(jids[:ok], r: r, timeout: 15 * Integration::SLOW))
    assert_equal [jids[:ok], "finished during the outage"], reply["args"]
    retry_job = wait_for("the retry of #{jids[:retry]}", 10) {
      r.zrange("retry", 0, -1).map { |s| JSON.parse(s) }.find { |j| j["jid"] == jids[:retry] }
    }
    assert_equal "ArgumentError", retry_job["error_class"]
    assert_equal 0, retry_job["retry_count"]
    dead_job = wait_for("the death of #{jids[:dead]}", 10) {
      r.zrange("dead", 0, -1).map { |s| JSON.parse(s) }.find { |j| j["jid"] == jids[:dead] }
    }
    assert_equal "ArgumentError", dead_job["error_class"]
    wait_for("the in-progress list emptied", 10) { wip_left(r).zero? }
    want = [before[0] + 3, before[1] + 2]
    stats = -> { [r.get("stat:processed").to_i, r.get("stat:failed").to_i] }
    wait_for("stat processed/failed to reach #{want.inspect}", 10) {
      got = stats.call
      got[0] >= want[0] && got[1] >= want[1]
    }
    sleep 1.5 # three beats: any count still to come
    problems = []
    got = stats.call
    problems << "stat processed/failed: expected #{want.inspect}, got #{got.inspect}" if got != want
    n = r.lrange("queue:replies", 0, -1).count { |s| s.include?(jids[:ok]) }
    unless replies.cover?(n)
      problems << "the Sleep job's reply pushed #{n} times (expected #{replies.minmax.uniq.join(" or ")})"
    end
    problems << "#{r.zcard("retry")} retry entries (expected 1)" if r.zcard("retry") != 1
    problems << "#{r.zcard("dead")} dead entries (expected 1)" if r.zcard("dead") != 1
    problems
  end

  # Fetching and beating again: a new job round-trips, the beat moves past +since+ (epoch s).
  def assert_resumed(w, r, identity, since, label)
    jid = push_echo("replies", label, r: r)
    reply = JSON.parse(wait_reply(jid, r: r, timeout: 15 * Integration::SLOW))
    assert_equal [jid, label], reply["args"]
    wait_for("a beat after the outage", 10) {
      r.sismember("processes", identity) && r.hget(identity, "beat").to_f > since
    }
    assert w.alive?, "winch still runs"
  end

  def echo_round_trip(r, label)
    jid = push_echo("replies", label, r: r)
    assert_equal [jid, label], JSON.parse(wait_reply(jid, r: r))["args"]
  end

  def lines(text, re)
    text.lines.grep(re)
  end

  def report(what)
    PRINT.synchronize { puts "\n#{name}: #{what}" }
  end

  # Fails with every problem found, each on its line, and the log lines about Redis.
  def assert_no_problems(problems, w, text)
    return pass if problems.empty?
    redis_lines = lines(text, /WARN|ERROR|INFO: redis|DEBUG: redis/)
    shown = redis_lines.size > 30 ? redis_lines.first(15) + ["...\n"] + redis_lines.last(10) : redis_lines
    flunk "#{problems.size} problem(s):\n- #{problems.join("\n- ")}\nwinch #{w.pid}'s lines about " \
      "Redis (#{redis_lines.size}):\n#{shown.join}"
  end

  # The outage logged once and its end once.
  def log_problems(text, what)
    n_out = lines(text, OUTAGE).size
    n_rec = lines(text, RECOVERY).size
    problems = []
    problems << "#{what}: #{n_out} 'unreachable' lines (expected 1)" if n_out != 1
    problems << "#{what}: #{n_rec} 'reachable again' lines (expected 1)" if n_rec != 1
    problems
  end

  # ---- the outages -------------------------------------------------------------------

  def test_redis_stopped_30s_then_restarted_from_its_aof
    outage = 30
    server = redis_server(extra: ["--appendonly", "yes", "--appendfsync", "always"])
    r = server.client
    w, identity = start_winch("-c", "4", r: r, url: server.url)
    echo_round_trip(r, "before the outage")
    jids = push_outcome_jobs(r)
    wait_started(w, jids)
    conns = connection_names(w).size.clamp(2, 10)

    mark = w.log.bytesize
    server.shutdown # SHUTDOWN NOSAVE: every write is in the AOF (appendfsync always)
    t_down = Harness.monotonic
    cpu0 = cpu_seconds(w.pid)
    sleep outage
    cpu = cpu_seconds(w.pid) - cpu0
    down_text = log_since(w, mark)
    assert w.alive?, "winch keeps running without Redis"
    assert_finished(w, jids, down_text)
    attempts = attempts_in(down_text)
    bound = conns * max_attempts(Harness.monotonic - t_down)

    server.start(timeout: 15)
    r = server.client
    restarted = Time.now.to_f
    wait_for("the recovery line", 15) { w.log.lines.grep(RECOVERY).size >= 1 }
    problems = outcome_problems(r, jids, before: [1, 0])
    assert_resumed(w, r, identity, restarted, "after the outage")
    text = log_since(w, mark)
    report "#{attempts.size} connection attempts by #{conns} connections in a " \
      "#{outage} s outage (bound #{bound}), #{format("%.2f", cpu)} s CPU"
    problems << "#{attempts.size} connection attempts in #{outage} s (at most #{bound})" if attempts.size > bound
    problems << "#{attempts.size} connection attempts in #{outage} s: it stopped trying" if attempts.size < conns * 4
    problems << "#{format("%.2f", cpu)} s CPU while Redis was down: a busy loop" if cpu >= 1.0 * Integration::SLOW
    problems += log_problems(text, "a #{outage} s outage")
    assert_no_problems(problems, w, text)
  end

  def test_connections_killed_at_random_under_load
    jobs = 2000
    server = redis_server
    r = server.client
    w, identity = start_winch("-c", "10", r: r, url: server.url)
    conns = connection_names(w).size.clamp(2, 10)
    jids = []
    now = Time.now.to_f
    payloads = Array.new(jobs) { |i|
      jid = SecureRandom.hex(12)
      jids << jid
      JSON.generate({"retry" => true, "queue" => "default", "args" => ["replies", i],
                     "class" => "Winch::Echo", "jid" => jid, "created_at" => now, "enqueued_at" => now})
    }
    mark = w.log.bytesize
    c0 = connections_received(r)
    r.lpush("queue:default", payloads)
    kills = 0
    killed = 0
    t0 = Harness.monotonic
    while Harness.monotonic - t0 < 4
      sleep(0.2 + 0.3 * rand)
      killed += r.call("CLIENT", "KILL", "TYPE", "normal") # SKIPME yes: not this client
      kills += 1
    end
    last_kill = Time.now.to_f
    answered = nil
    wait_for("all #{jobs} jobs answered", 60 * Integration::SLOW, interval: 0.2) {
      answered = r.lrange("queue:replies", 0, -1).map { |s| JSON.parse(s)["args"][0] }
      (jids - answered).empty?
    }
    wait_for("nothing left in winch:wip:*", 10) { wip_left(r).zero? }
    assert_resumed(w, r, identity, last_kill, "after the kills")
    assert_equal 0, r.llen("queue:default")
    assert_equal 0, r.zcard("retry") + r.zcard("dead"), "no job failed"
    assert_operator kills, :>=, 6
    assert_operator killed, :>=, kills, "winch's connections were among those killed"
    wait_for("processed counted", 10) { r.get("stat:processed").to_i >= jobs + 1 }
    new_conns = connections_received(r) - c0
    text = log_since(w, mark)
    duplicates = answered.size - answered.uniq.size
    outages = lines(text, OUTAGE).size
    recoveries = lines(text, RECOVERY).size
    report "#{kills} CLIENT KILLs (#{killed} connections) while #{jobs} Echo jobs ran: " \
      "#{new_conns} new connections, #{duplicates} duplicate replies, #{outages} outage " \
      "lines, #{recoveries} recovery lines, processed #{r.get("stat:processed")}"

    problems = []
    # Each killed connection is replaced once (its backoff starts again at 0.1 s after a
    # good handshake); a few more if a kill lands on a connection still in its handshake.
    if new_conns > killed + 2 * conns + 2
      problems << "#{new_conns} new connections for #{killed} killed (at most #{killed + 2 * conns + 2})"
    end
    problems << "no outage logged" if outages < 1
    problems << "#{outages} outage lines for #{kills} kills (at most one per kill)" if outages > kills
    problems << "#{outages} outage lines but #{recoveries} recovery lines" if outages != recoveries
    # At least once: a reply written just before a kill may be written again.
    problems << "#{duplicates} duplicate replies (at most #{kills * 10})" if duplicates > kills * 10
    problems << "stat:failed #{r.get("stat:failed")}" if r.get("stat:failed").to_i != 0
    assert_no_problems(problems, w, text)
  end

  # One connection killed alone (the queue's blocked BLMOVE connection, CLIENT KILL ID), the
  # command connection untouched: if winch logs an outage, it must log its end too, and
  # not believe Redis unreachable afterwards.
  def test_one_connection_killed_alone
    server = redis_server
    r = server.client
    w, identity = start_winch("-c", "2", r: r, url: server.url)
    echo_round_trip(r, "before")
    blocked = wait_for("winch's blocked BLMOVE in CLIENT LIST", 10) {
      r.call("CLIENT", "LIST").lines.find { |l| l.include?("cmd=blmove") }
    }
    mark = w.log.bytesize
    assert_equal 1, r.call("CLIENT", "KILL", "ID", blocked[/\bid=(\d+)/, 1])
    killed = Time.now.to_f
    sleep 1
    assert_resumed(w, r, identity, killed, "after the kill")
    status = w.stop(timeout: 10)
    assert_clean_exit status
    text = log_since(w, mark)
    n_out = lines(text, OUTAGE).size
    n_rec = lines(text, RECOVERY).size
    problems = []
    problems << "#{n_out} 'unreachable' lines for one killed connection" if n_out > 1
    problems << "#{n_out} 'unreachable' lines but #{n_rec} 'reachable again' lines" if n_out != n_rec
    exit_lines = lines(text, /unreachable at exit/)
    problems << "Redis was up at exit, yet: #{exit_lines.first.strip}" if exit_lines.any?
    assert_no_problems(problems, w, text)
  end

  # CLIENT PAUSE shorter than the command timeout: the commands wait, nothing reconnects.
  def test_client_pause_all
    server = redis_server
    r = server.client
    w, identity = start_winch("-c", "4", r: r, url: server.url)
    echo_round_trip(r, "before the pause")
    jids = push_outcome_jobs(r, 1000)
    wait_started(w, jids)
    mark = w.log.bytesize
    c0 = connections_received(r)
    r.call("CLIENT", "PAUSE", "3000", "ALL")
    paused = Time.now.to_f
    sleep 3.5 # every client's commands are held, this one's too
    assert_finished(w, jids, log_since(w, mark))
    problems = outcome_problems(r, jids, before: [1, 0])
    assert_resumed(w, r, identity, paused + 3, "after the pause")
    text = log_since(w, mark)
    new_conns = connections_received(r) - c0
    report "paused 3 s: #{new_conns} new connections, #{lines(text, OUTAGE).size} outage lines"
    n = lines(text, OUTAGE).size
    problems << "#{n} outage lines for a 3 s pause (commands time out after 10 s)" if n > 0
    problems << "#{attempts_in(text).size} connections dropped" if attempts_in(text).any?
    problems << "#{new_conns} new connections (expected none)" if new_conns > 0
    assert_no_problems(problems, w, text)
  end

  # SIGSTOP longer than the command timeout: the stuck connection is replaced, and winch
  # carries on after SIGCONT. What was written on the stuck connection is executed when
  # Redis resumes, and the outcome writes are sent again on the new one: a handler's push
  # may be made twice (at least once, as docs/ARCHITECTURE.md says).
  def test_redis_frozen_by_sigstop_for_12s
    frozen = 12
    server = redis_server(extra: ["--appendonly", "yes"]) # the AOF shows what was applied
    r = server.client
    w, identity = start_winch("-c", "4", r: r, url: server.url)
    echo_round_trip(r, "before the freeze")
    conns = connection_names(w).size.clamp(2, 10)
    jids = push_outcome_jobs(r)
    wait_started(w, jids)
    mark = w.log.bytesize
    c0 = connections_received(r)
    Process.kill("STOP", server.pid)
    cpu0 = cpu_seconds(w.pid)
    sleep frozen
    cpu = cpu_seconds(w.pid) - cpu0
    frozen_text = log_since(w, mark)
    Process.kill("CONT", server.pid)
    resumed = Time.now.to_f
    assert_finished(w, jids, frozen_text)
    problems = outcome_problems(r, jids, before: [1, 0], replies: 1..2)
    assert_resumed(w, r, identity, resumed, "after the freeze")
    # Connections made while Redis was stopped sat in the listen backlog: accepted at SIGCONT.
    new_conns = connections_received(r) - c0
    text = log_since(w, mark)
    replies = r.lrange("queue:replies", 0, -1).count { |s| s.include?(jids[:ok]) }
    report "frozen #{frozen} s: #{new_conns} new connections, " \
      "#{attempts_in(frozen_text).size} connections dropped while frozen, " \
      "#{format("%.2f", cpu)} s CPU, the Sleep job's reply pushed #{replies} times, stats " \
      "#{[r.get("stat:processed"), r.get("stat:failed")].inspect} (expected [\"4\", \"2\"])"
    problems += log_problems(text, "a #{frozen} s freeze")
    if problems.any? { |p| p.start_with?("stat ") }
      incrs = aof_commands(server).select { |c| c[0].casecmp?("INCRBY") && c[1] =~ /\Astat:(processed|failed)\z/ }
      problems << "the stats increments Redis applied, in order: " +
        incrs.map { |c| "#{c[1]} +#{c[2]}" }.join(", ")
    end
    outage = lines(text, OUTAGE).first
    if outage && outage !~ /no reply in 1\d\.\d s/
      problems << "the outage line does not say the stuck connection timed out: #{outage.strip}"
    end
    # Each attempt against a stopped server waits out the connect (5 s) or reply (10 s) timeout.
    bound = conns * (1 + (frozen / 5.0).ceil)
    problems << "#{new_conns} new connections while frozen (at most #{bound})" if new_conns > bound
    problems << "no new connection: the stuck one was not replaced" if new_conns < 1
    problems << "#{format("%.2f", cpu)} s CPU while frozen: a busy loop" if cpu >= 0.5 * Integration::SLOW
    assert_no_problems(problems, w, text)
  end

  def test_redis_unreachable_at_start
    down = 8
    server = redis_server(start: false)
    w = spawn_winch("-v", *NO_POLL, "-c", "2", "-t", "1", "--beat-interval", "0.5", url: server.url)
    t0 = Harness.monotonic
    Harness.wait_until(2) { w.log.include?("starting") }
    cpu0 = cpu_seconds(w.pid)
    sleep down
    cpu = cpu_seconds(w.pid) - cpu0
    assert w.alive?, "winch keeps running without Redis:\n#{w.log}"
    mark = w.log.bytesize
    attempts = attempts_in(w.log)
    conns = connection_names(w).size.clamp(2, 10)
    bound = conns * max_attempts(Harness.monotonic - t0)
    server.start
    started = Time.now.to_f
    r = server.client
    identity = wait_registered(w, r: r, timeout: 15 * Integration::SLOW)
    assert_resumed(w, r, identity, started, "first job after Redis came up")
    jids = push_outcome_jobs(r, 100)
    problems = outcome_problems(r, jids, before: [1, 0])
    report "#{attempts.size} connection attempts by #{conns} connections in #{down} s down " \
      "at start (bound #{bound}), #{format("%.2f", cpu)} s CPU"
    problems << "#{attempts.size} connection attempts in #{down} s (at most #{bound})" if attempts.size > bound
    problems << "#{attempts.size} connection attempts: it stopped trying" if attempts.size < conns * 3
    problems << "#{format("%.2f", cpu)} s CPU while Redis was down: a busy loop" if cpu >= 0.5 * Integration::SLOW
    problems += log_problems(w.log, "down at start")
    after = attempts_in(log_since(w, mark))
    problems << "#{after.size} connections dropped after Redis came up" if after.any?
    assert_no_problems(problems, w, w.log)
  end

  # A failover and back: B, A's replica, is promoted and A becomes its replica (FAILOVER:
  # writes paused until B has caught up, so nothing written to A is lost), so winch's writes
  # on A get READONLY; jobs are pushed to B meanwhile and reach A by replication; then A is
  # promoted again (REPLICAOF NO ONE). winch reconnects, applies what finished meanwhile,
  # and processes the jobs pushed meanwhile.
  def test_replica_promoted
    readonly = 6
    a = redis_server
    b = redis_server
    ra = a.client
    rb = b.client
    rb.call("REPLICAOF", "127.0.0.1", a.port.to_s)
    wait_for("B in sync with A", 10) { rb.info("replication")["master_link_status"] == "up" }
    w, identity = start_winch("-c", "4", r: ra, url: a.url)
    echo_round_trip(ra, "before the failover")
    conns = connection_names(w).size.clamp(2, 10)
    jids = push_outcome_jobs(ra)
    wait_started(w, jids)
    mark = w.log.bytesize
    c0 = connections_received(ra)
    ra.call("FAILOVER", "TO", "127.0.0.1", b.port.to_s)
    wait_for("A a replica of B", 10) {
      ra.info("replication")["role"] == "slave" && ra.info("replication")["master_link_status"] == "up"
    }
    t_ro = Harness.monotonic
    meanwhile = Array.new(5) { |i| push_echo("replies", "pushed during the failover #{i}", r: rb) }
    cpu0 = cpu_seconds(w.pid)
    sleep readonly
    cpu = cpu_seconds(w.pid) - cpu0
    wait_for("A caught up with B", 10) {
      ra.info("replication")["master_repl_offset"] == rb.info("replication")["master_repl_offset"]
    }
    ro_text = log_since(w, mark)
    ro_conns = connections_received(ra) - c0
    ra.call("REPLICAOF", "NO", "ONE")
    promoted = Time.now.to_f
    ro_seconds = Harness.monotonic - t_ro
    assert_finished(w, jids, ro_text)
    meanwhile.each_with_index do |jid, i|
      reply = JSON.parse(wait_reply(jid, r: ra, timeout: 15 * Integration::SLOW))
      assert_equal [jid, "pushed during the failover #{i}"], reply["args"]
    end
    problems = outcome_problems(ra, jids, before: [1 + meanwhile.size, 0])
    assert_resumed(w, ra, identity, promoted, "after the promotion")
    text = log_since(w, mark)
    bound = conns * max_attempts(ro_seconds)
    report "read-only for #{format("%.1f", ro_seconds)} s: #{ro_conns} new connections to A " \
      "(bound #{bound}), #{attempts_in(ro_text).size} connections dropped, " \
      "#{lines(ro_text, OUTAGE).size} outage lines, #{lines(ro_text, RECOVERY).size} recovery " \
      "lines, #{format("%.2f", cpu)} s CPU"
    if ro_conns > bound
      problems << "#{ro_conns} new connections in #{format("%.1f", ro_seconds)} s of READONLY " \
        "(at most #{bound} with the backoff)"
    end
    problems << "#{format("%.2f", cpu)} s CPU while READONLY: a busy loop" if cpu >= 0.5 * Integration::SLOW
    problems += log_problems(text, "a #{readonly} s failover")
    assert_no_problems(problems, w, text)
  end
end

Minitest.parallel_executor = Minitest::Parallel::Executor.new(8)
