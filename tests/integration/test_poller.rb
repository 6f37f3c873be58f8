# The scheduled/retry poller (--poll-interval 0.5): due members move to their queues with a
# fresh enqueued_at and every other byte as it was; members that are not jobs go to the dead
# set verbatim; members not yet due stay.
require_relative "helper"

class TestPoller < Integration::Test
  ENQUEUED_AT = /,"enqueued_at":-?[0-9][0-9.eE+-]*(?=[,}])|"enqueued_at":-?[0-9][0-9.eE+-]*,/

  # A schedule member as the Ruby client writes it, plus bytes a re-serializer would change.
  def member(queue, extra = "")
    %({"retry":true,"queue":"#{queue}","args":[1,123456789012345678901234567890,1.10,"caf\\u00e9 \\/ \\"q\\"",{"k":[null,true]}],) +
      %("class":"Later::Job","jid":"#{SecureRandom.hex(12)}","created_at":#{format("%.7f", Time.now.to_f - 30)}#{extra}})
  end

  # The worker does not fetch from "later", so moved jobs stay there for inspection.
  def start
    start_winch("-c", "2", "-q", "default", "--poll-interval", "0.5")
  end

  def moved_from(set)
    start
    raws = [member("later"), member("later", %(,"tags":["a"])), member("other_q")]
    raws.each_with_index { |raw, i| redis.zadd(set, Time.now.to_f - 10 - i, raw) }
    future = member("later")
    redis.zadd(set, Time.now.to_f + 3600, future)
    t0 = Time.now.to_f
    wait_for("3 jobs moved out of #{set}", 10) {
      redis.llen("queue:later") == 2 && redis.llen("queue:other_q") == 1
    }
    t1 = Time.now.to_f
    assert_equal [future], redis.zrange(set, 0, -1), "the member not due yet stays"
    moved = redis.lrange("queue:later", 0, -1) + redis.lrange("queue:other_q", 0, -1)
    assert_equal raws.sort, moved.map { |m| m.sub(ENQUEUED_AT, "") }.sort,
      "every byte but enqueued_at is kept"
    moved.each do |m|
      assert_equal 1, m.scan('"enqueued_at":').size, "one enqueued_at in #{m}"
      enq = JSON.parse(m)["enqueued_at"]
      assert_kind_of Float, enq
      assert_operator enq, :>=, t0 - 1, "enqueued_at is fresh"
      assert_operator enq, :<=, t1 + 0.1, "enqueued_at is fresh"
    end
    assert_includes redis.smembers("queues"), "later"
    assert_includes redis.smembers("queues"), "other_q"
    assert_equal 0, redis.zcard("dead")
  end

  def test_due_scheduled_jobs_move_to_their_queues
    moved_from("schedule")
  end

  def test_due_retries_move_to_their_queues
    moved_from("retry")
  end

  def test_a_stale_enqueued_at_and_at_are_rewritten
    start
    raw = member("later", %(,"enqueued_at":1000000000.5,"at":1000000001.25))
    redis.zadd("schedule", Time.now.to_f - 1, raw)
    moved = wait_for("the job moved", 10) { redis.lindex("queue:later", 0) }
    job = JSON.parse(moved)
    refute job.key?("at"), "at is removed"
    assert_in_delta Time.now.to_f, job["enqueued_at"], 5
    expected = JSON.parse(raw).reject { |k, _| %w[at enqueued_at].include?(k) }
    assert_equal expected, job.reject { |k, _| k == "enqueued_at" }
  end

  def test_sidekiq_8_writes_enqueued_at_in_milliseconds
    start_winch("-c", "2", "--poll-interval", "0.5", "--sidekiq", "8")
    raw = member("later")
    redis.zadd("schedule", Time.now.to_f - 1, raw)
    moved = wait_for("the job moved", 10) { redis.lindex("queue:later", 0) }
    text = moved[/"enqueued_at":([^,}]*)/, 1]
    assert_match(/\A\d{13}\z/, text)
    assert_in_delta Time.now.to_f * 1000, text.to_i, 5000
    assert_equal raw, moved.sub(ENQUEUED_AT, "")
  end

  def test_a_scheduled_job_runs
    start
    jid = SecureRandom.hex(12)
    raw = %({"retry":true,"queue":"default","args":["replies","soon"],"class":"Winch::Echo","jid":"#{jid}","created_at":#{Time.now.to_f}})
    redis.zadd("schedule", Time.now.to_f + 1, raw)
    reply = JSON.parse(wait_reply(jid, timeout: 10))
    assert_equal [jid, "soon"], reply["args"]
    assert_equal 0, redis.zcard("schedule")
  end

  def test_a_member_that_is_not_json_goes_to_the_dead_set
    w, = start
    bad = ["{nope", "[1,2]", "not json at all"]
    bad.each { |b| redis.zadd("schedule", Time.now.to_f - 5, b) }
    good = member("later")
    redis.zadd("schedule", Time.now.to_f - 5, good)
    wait_for("3 members in the dead set", 10) { redis.zcard("dead") == 3 }
    assert_equal bad.sort, redis.zrange("dead", 0, -1).sort, "the dead set holds the exact bytes"
    wait_for("the good member moved", 10) { redis.llen("queue:later") == 1 }
    assert_equal 0, redis.zcard("schedule"), "nothing left behind"
    assert_equal good, redis.lindex("queue:later", 0).sub(ENQUEUED_AT, "")
    assert_equal 3, log_lines(w, "ERROR").size, "one error line per bad member:\n#{w.log}"
    assert w.alive?
  end
end
