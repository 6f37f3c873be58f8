# Retry exhaustion and Sidekiq::DeadSet: retry 0 and N, retry false, dead false, trimming.
require "minitest/autorun"
require_relative "../support/harness"

class TestDead < Harness::TestCase
  def test_retry_zero_goes_straight_to_dead
    t0 = Time.now.to_f
    jid = push("Winch::Fail", ["RuntimeError", "zero"], retry: 0)
    start_worker
    entry = wait_for("the dead entry") { Sidekiq::DeadSet.new.first }
    t1 = Time.now.to_f
    assert_equal jid, entry.jid
    assert_equal "RuntimeError", entry["error_class"]
    assert_equal "zero", entry["error_message"]
    assert_equal 0, entry["retry_count"]
    assert_kind_of Float, entry["failed_at"]
    assert_equal 0, entry["retry"]
    assert_operator entry.score, :>=, t0
    assert_operator entry.score, :<=, t1, "dead score is the time of death"
    assert_equal 0, Sidekiq::RetrySet.new.size
    wait_for_stats(processed: 1, failed: 1)
  end

  # retry: 1 means one retry: the first failure goes to the retry set, the failure of the
  # retry goes to the dead set. SortedEntry#add_to_queue re-enqueues now without touching
  # retry_count, as the scheduler does when the retry is due.
  def test_retry_one_dies_after_its_retry
    jid = push("Winch::Fail", ["ArgumentError", "once"], retry: 1)
    start_worker
    first = wait_for("the retry entry") { Sidekiq::RetrySet.new.first }
    assert_equal 0, first["retry_count"]
    assert_equal 0, Sidekiq::DeadSet.new.size

    Sidekiq::RetrySet.new.each(&:add_to_queue)
    dead = wait_for("the dead entry") { Sidekiq::DeadSet.new.first }
    assert_equal jid, dead.jid
    assert_equal 1, dead["retry_count"]
    assert_equal first["failed_at"], dead["failed_at"]
    assert_kind_of Float, dead["retried_at"]
    assert_operator dead["retried_at"], :>, first["failed_at"]
    assert_equal "ArgumentError", dead["error_class"]
    assert_equal "once", dead["error_message"]
    assert_equal 0, Sidekiq::RetrySet.new.size
    wait_for_stats(processed: 2, failed: 2)
  end

  def test_retry_false_is_dropped_but_counted
    push("Winch::Fail", ["RuntimeError", "gone"], retry: false)
    start_worker
    wait_for_stats(processed: 1, failed: 1)
    assert_equal 0, Sidekiq::RetrySet.new.size
    assert_equal 0, Sidekiq::DeadSet.new.size
    assert_equal 0, Sidekiq::Queue.new.size
  end

  def test_dead_false_discards_at_exhaustion
    push("Winch::Fail", ["RuntimeError", "discard"], retry: 0, dead: false)
    push("Winch::Noop", [])
    start_worker
    wait_for_stats(processed: 2, failed: 1)
    assert_equal 0, Sidekiq::RetrySet.new.size
    assert_equal 0, Sidekiq::DeadSet.new.size
  end

  # Every add trims by age (180 days) and by rank (ZREMRANGEBYRANK 0 -10000 keeps 9,999).
  def test_dead_set_is_trimmed_on_add
    now = Time.now.to_f
    redis.pipelined do |p|
      p.zadd("dead", (now - 181 * 86_400).to_s, %({"class":"Ancient","args":[],"jid":"ancient"}))
      9_999.times do |i|
        p.zadd("dead", (now - 10_000 + i).to_s, %({"class":"Old","args":[#{i}],"jid":"old#{i}"}))
      end
    end
    assert_equal 10_000, Sidekiq::DeadSet.new.size
    jid = push("Winch::Fail", ["RuntimeError", "trim"], retry: 0)
    start_worker
    wait_for("the new dead entry") { Sidekiq::DeadSet.new.find_job(jid) }
    members = redis.zrange("dead", 0, -1)
    assert_equal 9_999, members.size
    refute(members.any? { |m| m.include?('"ancient"') }, "the 181-day-old entry is trimmed")
    refute(members.any? { |m| m.include?('"old0"') }, "the oldest recent entry is trimmed by rank")
    assert(members.any? { |m| m.include?('"old1"') })
    assert_equal jid, JSON.parse(members.last)["jid"], "the new entry has the highest score"
  end
end
