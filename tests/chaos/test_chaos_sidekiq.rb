# The chaos of test_chaos.rb against Ruby Sidekiq 6.4.1 instead of winch: the same Winch::Echo
# jobs (the harness's Ruby stand-in, tests/support/winch_jobs.rb), two `sidekiq` processes
# each SIGKILLed at random every 1 to 3 s and started again at once, and Redis (AOF,
# appendfsync always) killed and restarted once mid-run. Sidekiq's basic fetch takes a job
# off its queue with BRPOP, so a job running in a killed process is gone. This test shows
# how many: it prints the jids never answered and the duplicates, and asserts no loss (it
# only asserts that the chaos happened: kills, a Redis restart, jobs processed).
#
# Skipped unless WORKER=sidekiq or CHAOS_SIDEKIQ=1, so that the suite's chaos stage stays
# fast:
#
#   CHAOS_SIDEKIQ=1 ruby tests/chaos/test_chaos_sidekiq.rb     (prints the figures)
#   CHAOS_SIDEKIQ=1 tests/chaos/run.sh                        (with test_chaos.rb; quiet when it passes)
#
#   CHAOS_JOBS=N      jobs (default 60000, as test_chaos.rb)
#   CHAOS_SECONDS=S   how long the killing goes on at most (default 12)
require "securerandom"
require "set"
require_relative "../integration/helper"
require_relative "chaos_jobs"

class TestChaosSidekiq < Integration::Test
  include ChaosJobs

  def setup
    skip "Ruby Sidekiq chaos: set WORKER=sidekiq or CHAOS_SIDEKIQ=1" unless
      ENV["WORKER"] == "sidekiq" || ENV["CHAOS_SIDEKIQ"] == "1"
    super
  end

  def spawn_sidekiq(url)
    Harness.start_worker(kind: :sidekiq, concurrency: CONCURRENCY, timeout: 1,
      env: {"REDIS_URL" => url})
  end

  def jids_in_set(r, key)
    r.zrange(key, 0, -1).map { |raw| JSON.parse(raw)["jid"] }
  end

  def test_sigkills_and_a_redis_restart_against_ruby_sidekiq
    server = redis_server(extra: ["--appendonly", "yes", "--appendfsync", "always"])
    r = server.client
    jids = Array.new(JOBS) { SecureRandom.hex(12) }
    push_all(r, jids)
    workers = Array.new(WORKERS) { spawn_sidekiq(server.url) }
    kills = 0
    restarts = 0
    redis_restarted = false
    t0 = Harness.monotonic
    while Harness.monotonic - t0 < KILL_SECONDS
      sleep(1 + 2 * rand)
      break if r.llen("queue:default").zero?
      # A process that died by itself is started again too, as systemd would.
      workers.each_index do |j|
        next if workers[j].alive?
        workers[j] = spawn_sidekiq(server.url)
        restarts += 1
      end
      i = rand(WORKERS)
      workers[i].signal("KILL")
      workers[i].wait_exit(5)
      kills += 1
      workers[i] = spawn_sidekiq(server.url)
      next if redis_restarted || Harness.monotonic - t0 < 4
      server.kill # SIGKILL: with appendfsync always, every acknowledged write is on disk
      sleep 1
      server.start(timeout: 15)
      r = server.client
      redis_restarted = true
    end
    chaos_seconds = Harness.monotonic - t0
    # The rest of the queue drains; then the replies stop coming.
    last = -1
    Harness.wait_until(30, interval: 1) {
      n = r.llen("queue:replies")
      done = r.llen("queue:default").zero? && n == last
      last = n
      done
    }
    workers.each { |w| w.signal("TERM") if w.alive? }
    workers.each { |w| w.wait_exit(15) }

    got = answered(r)
    got_set = got.to_set
    queued = r.llen("queue:default")
    retrying = jids_in_set(r, "retry").to_set
    dead = jids_in_set(r, "dead").to_set
    lost = jids.reject { |jid| got_set.include?(jid) || retrying.include?(jid) || dead.include?(jid) }
    lost = [] if queued.positive? && lost.size <= queued # not drained: nothing can be called lost
    duplicates = got.size - got.uniq.size
    processed = r.get("stat:processed").to_i
    puts "\nchaos (Ruby Sidekiq #{Sidekiq::VERSION}): #{JOBS} jobs, #{kills} SIGKILLs " \
      "(#{restarts} other restarts), redis restarted: #{redis_restarted}, " \
      "#{jids.size - lost.size - retrying.size - dead.size - queued} answered, " \
      "#{lost.size} never answered (lost), #{duplicates} duplicates, #{retrying.size} in the " \
      "retry set, #{dead.size} dead, #{queued} still queued, #{format("%.1f", chaos_seconds)} s " \
      "of chaos, #{format("%.1f", Harness.monotonic - t0)} s in all"
    puts "lost jids (first 10): #{lost.first(10).join(" ")}" if lost.any?

    assert_operator kills, :>=, 2, "the test killed workers"
    assert redis_restarted, "the test restarted Redis" if KILL_SECONDS >= 6
    assert_operator got_set.size, :>, JOBS / 2, "the workers processed jobs"
    assert_operator processed, :>, 0, "Sidekiq counted them"
  end
end
