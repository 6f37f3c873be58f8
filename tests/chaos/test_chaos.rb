# The chaos test: tens of thousands of Winch::Echo jobs, two winch processes each killed with
# SIGKILL at random every 1 to 3 s and started again at once (as systemd would), and Redis
# (AOF, appendfsync always, so the test itself loses nothing) killed and restarted once
# mid-run. At the end every jid has been answered at least once, the duplicates are reported
# and bounded by what can have been in flight, and no job is left in any in-progress list.
#
#   CHAOS_JOBS=N      jobs (default 60000)
#   CHAOS_SECONDS=S   how long the killing goes on (default 12); the jobs arrive over it
require "securerandom"
require_relative "../integration/helper"
require_relative "chaos_jobs"

class TestChaos < Integration::Test
  include ChaosJobs

  def winch_args
    ["-c", CONCURRENCY, "-t", "1", "--beat-interval", "0.5", "--heartbeat-ttl", "2",
     "--recovery-interval", "0.5", "--poll-interval", "1"]
  end

  def test_sigkills_and_a_redis_restart_lose_no_job
    server = redis_server(extra: ["--appendonly", "yes", "--appendfsync", "always"])
    r = server.client
    jids = Array.new(JOBS) { SecureRandom.hex(12) }
    workers = Array.new(WORKERS) { spawn_winch(*winch_args, url: server.url) }
    kills = 0
    redis_restarted = false
    t0 = Harness.monotonic
    # The jobs arrive all through the chaos, so every kill lands while there is work.
    redis_up = Mutex.new
    pusher = push_during(server, jids, KILL_SECONDS, redis_up)
    while Harness.monotonic - t0 < KILL_SECONDS
      sleep(1 + 2 * rand)
      i = rand(WORKERS)
      workers[i].signal("KILL")
      workers[i].wait_exit(5)
      kills += 1
      workers[i] = spawn_winch(*winch_args, url: server.url)
      next if redis_restarted || Harness.monotonic - t0 < 4
      redis_up.synchronize do
        server.kill # SIGKILL: with appendfsync always, every acknowledged write is on disk
        sleep 1
        server.start(timeout: 15)
      end
      r = server.client
      redis_restarted = true
    end
    pusher.join
    wait_for("every job answered", 90 * Integration::SLOW, interval: 0.5) {
      (jids - answered(r)).empty?
    }
    workers.each { |w| w.signal("TERM") }
    workers.each { |w| assert_clean_exit w.wait_exit(15) }

    recovered = Harness.workers.sum { |w| w.log.scan(/recovered job '/).size }
    got = answered(r)
    missing = jids - got
    duplicates = got.size - got.uniq.size
    # What can run twice: the jobs in flight in a process when it was killed, and those in
    # flight when Redis went away (their outcome may be lost with the connection).
    bound = (kills + WORKERS) * CONCURRENCY
    puts "\nchaos: #{JOBS} jobs, #{kills} SIGKILLs, redis restarted: #{redis_restarted}, " \
      "#{recovered} jobs recovered from killed processes, #{duplicates} duplicates " \
      "(bound #{bound}), #{format("%.1f", Harness.monotonic - t0)} s"
    assert_empty missing, "every jid answered at least once"
    assert_operator duplicates, :<=, bound, "duplicates bounded by what was in flight"
    assert_operator kills, :>=, 3, "the test killed workers"
    assert redis_restarted, "the test restarted Redis"
    left = r.keys("winch:wip:*").sum { |k| r.llen(k) }
    assert_equal 0, left, "no job left in any in-progress list"
    assert_equal 0, r.llen("queue:default")
    assert_equal 0, r.zcard("retry") + r.zcard("dead"), "nothing failed"
  end
end
