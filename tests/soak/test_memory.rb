# Memory under a long run: winch's RSS after a million jobs stays within 10% of its RSS after
# the first 100,000 (no growth per job: no leak, no unbounded cache).
#
#   SOAK_JOBS=N   total jobs (default 1000000); the first tenth is the baseline
require "securerandom"
require_relative "../integration/helper"

class TestMemory < Integration::Test
  TOTAL = Integer(ENV.fetch("SOAK_JOBS", "1000000"))
  FIRST = TOTAL / 10

  def push_noops(r, n)
    now = Time.now.to_f
    (0...n).each_slice(5000) do |slice|
      payloads = slice.map { |i|
        %({"retry":true,"queue":"default","args":[#{i},"#{SecureRandom.hex(8)}"],) +
          %("class":"Winch::Noop","jid":"#{SecureRandom.hex(12)}","created_at":#{now},"enqueued_at":#{now}})
      }
      r.lpush("queue:default", payloads)
    end
  end

  def rss_kb(pid)
    File.read("/proc/#{pid}/status")[/^VmRSS:\s+(\d+)/, 1].to_i
  end

  def drain(r, w, timeout)
    wait_for("the queue drained", timeout, interval: 0.2) {
      flunk "winch exited:\n#{w.log_tail}" unless w.alive?
      r.llen("queue:default").zero? && r.keys("winch:wip:*").sum { |k| r.llen(k) }.zero?
    }
    sleep 1.5 # a heartbeat or two, so the counters and the work hash settle
  end

  def test_rss_after_a_million_jobs_within_ten_percent_of_after_100k
    r = redis
    w, = start_winch("-c", "10", "--log-level", "warn")
    push_noops(r, FIRST)
    drain(r, w, 120)
    base = rss_kb(w.pid)
    push_noops(r, TOTAL - FIRST)
    drain(r, w, 600)
    final = rss_kb(w.pid)
    status, processed, = stop_and_stats(w)
    assert_clean_exit status
    puts "\nsoak: RSS #{base} KB after #{FIRST} jobs, #{final} KB after #{TOTAL} " \
      "(#{format("%+.1f", 100.0 * (final - base) / base)}%)"
    assert_equal TOTAL, processed, "every job processed"
    assert_operator final, :<=, (base * 1.10).ceil, "RSS within 10% of the baseline"
  end
end
