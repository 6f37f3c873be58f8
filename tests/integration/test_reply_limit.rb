# The reply limit (--max-reply) and jobs over --max-payload: a job too big to run ends in the
# dead set verbatim, whichever way it reaches winch (a blocked BLMOVE, a scan, the poller,
# recovery of a dead process's jobs), with one error line naming the limit; nothing loops
# on it, nothing is counted, and the worker goes on. Replies that carry several jobs stay
# under --max-reply.
require_relative "helper"

class TestReplyLimit < Integration::Test
  LIMITS = ["--max-payload", "1048576", "--max-reply", "1100000"].freeze
  TWO_MB = 2 * 1024 * 1024

  def wip_key(identity, queue = "default")
    "winch:wip:#{identity}:#{queue}"
  end

  # A job of about +bytes+ bytes: a Winch::Noop with one long string argument.
  def big_job(bytes)
    h = job_hash("Winch::Noop", [""])
    pad = bytes - JSON.generate(h).bytesize
    h["args"] = ["x" * pad]
    raw = JSON.generate(h)
    assert_equal bytes, raw.bytesize
    raw
  end

  # Until a client is blocked in BLMOVE (it is sent again every 2 s: a few ms without one).
  def wait_blocked
    wait_for("winch blocked in BLMOVE", 10 * Integration::SLOW) {
      redis.call("CLIENT", "LIST").include?("cmd=blmove")
    }
  end

  def errors_naming_the_limit(w)
    log_lines(w, "ERROR").grep(/--max-payload/)
  end

  # The dead set holds exactly +raws+, byte for byte.
  def assert_dead_verbatim(raws)
    dead = zset("dead").map(&:first)
    assert_equal raws.size, dead.size, "dead-set entries"
    raws.each { |raw| assert dead.include?(raw), "a #{raw.bytesize}-byte job is in the dead set verbatim" }
  end

  def assert_nothing_left(identity)
    assert_equal 0, redis.llen("queue:default"), "nothing left in the queue"
    assert_equal 0, redis.llen(wip_key(identity)), "nothing left in the in-progress list"
  end

  # Idle winch blocks in BLMOVE; the 2 MB reply is refused on the fetch connection and the
  # job is moved from the in-progress list to the dead set by a script.
  def test_2mb_job_reaching_a_blocked_fetch
    w, identity = start_winch("-c", "2", *LIMITS)
    wait_blocked
    raw = lpush_raw(big_job(TWO_MB))
    jid = push_echo("replies", "after")
    assert_equal [jid, "after"], JSON.parse(wait_reply(jid))["args"], "the worker goes on"
    wait_for("the dead-set entry", 5) { redis.zcard("dead") == 1 }
    assert_dead_verbatim([raw])
    assert_nothing_left(identity)
    assert w.alive?
    assert_includes redis.smembers("processes"), identity, "the same process"
    errors = errors_naming_the_limit(w)
    assert_equal 1, errors.size, "one error line naming the limit:\n#{w.log}"
    assert_match(/queue 'default'/, errors[0])
    assert_match(/#{TWO_MB} bytes/, errors[0])
    assert_equal 1, log_lines(w, "WARN").grep(/refused a reply of more than 1052672 bytes/).size,
      "the fetch connection's refusal names its limit:\n#{w.log}"
    refute_match(/unreachable/, w.log, "a refused reply is not an outage")
    status, processed, failed = stop_and_stats(w)
    assert_clean_exit status
    assert_equal [1, 0], [processed, failed], "only the good job is counted"
  end

  # Jobs already waiting are found by a scan, which moves the big one to the dead set in
  # Redis: its bytes never cross the wire.
  def test_2mb_job_found_by_a_scan
    raws = [lpush_raw(big_job(TWO_MB)), lpush_raw(big_job(3 * 1024 * 1024))]
    jid = push_echo("replies", "after")
    w, identity = start_winch("-c", "2", *LIMITS)
    wait_reply(jid)
    wait_for("two dead-set entries", 5) { redis.zcard("dead") == 2 }
    assert_dead_verbatim(raws)
    assert_nothing_left(identity)
    assert_equal 2, errors_naming_the_limit(w).size, "one error line each:\n#{w.log}"
    assert_equal [], log_lines(w, "WARN").grep(/refused/), "no reply was too big"
    status, processed, failed = stop_and_stats(w)
    assert_clean_exit status
    assert_equal [1, 0], [processed, failed]
  end

  # Four 600 kB jobs fit two scans' worth of idle threads but not one reply: each scan takes
  # what fits under --max-reply, puts the rest back, and every job runs once.
  def test_scans_stay_under_the_reply_limit
    raws = 4.times.map { lpush_raw(big_job(600_000)) }
    jids = raws.map { |r| JSON.parse(r)["jid"] }
    w, identity = start_winch("-c", "4", *LIMITS)
    wait_for("the four jobs done", 15 * Integration::SLOW) {
      jids.all? { |jid| w.log.lines.any? { |l| l.include?("jid=#{jid}") && l =~ / INFO: done\b/ } }
    }
    assert_equal 0, redis.zcard("dead")
    assert_nothing_left(identity)
    assert_equal [], log_lines(w, "WARN").grep(/refused/), "no reply went past the limit:\n#{w.log}"
    jids.each { |jid| assert_equal 1, w.log.scan(/jid=#{jid} INFO: start/).size, "#{jid} ran once" }
    status, processed, = stop_and_stats(w)
    assert_clean_exit status
    assert_equal 4, processed
  end

  # The poller reads due members within the limit too: a 2 MB member of `schedule` goes to
  # the dead set in Redis; 600 kB members are moved a few per read.
  def test_poller_moves_a_2mb_member_to_the_dead_set
    now = Time.now.to_f
    big = big_job(TWO_MB)
    mids = 3.times.map { big_job(600_000) }
    jid = SecureRandom.hex(12)
    small = JSON.generate(job_hash("Winch::Echo", ["replies", "scheduled"]).merge("jid" => jid))
    ([big] + mids + [small]).each_with_index { |m, i| redis.zadd("schedule", now - 10 + i, m) }
    w, identity = start_winch("-c", "2", *LIMITS)
    wait_reply(jid)
    mid_jids = mids.map { |m| JSON.parse(m)["jid"] }
    wait_for("the 600 kB jobs done", 15 * Integration::SLOW) {
      mid_jids.all? { |j| w.log.lines.any? { |l| l.include?("jid=#{j}") && l =~ / INFO: done\b/ } }
    }
    assert_equal 0, redis.zcard("schedule")
    assert_dead_verbatim([big])
    errors = errors_naming_the_limit(w)
    assert_equal 1, errors.size, "one error line:\n#{w.log}"
    assert_match(/'schedule'/, errors[0])
    assert_equal [], log_lines(w, "WARN").grep(/refused/), "no reply went past the limit:\n#{w.log}"
    assert_nothing_left(identity)
    assert_clean_exit stop_and_stats(w).first
  end

  # A dead process left a 2 MB job in its in-progress list: recovery puts it back without
  # reading it, and the fetch that takes it moves it to the dead set.
  def test_recovered_2mb_job_ends_in_the_dead_set
    dead_id = "gone-box:4242:0123456789ab"
    raw = big_job(TWO_MB)
    redis.lpush(wip_key(dead_id), raw)
    redis.sadd("winch:wip", "#{dead_id}\ndefault")
    w, identity = start_winch("-c", "2", "--recovery-interval", "1", *LIMITS)
    wait_for("the dead-set entry", 10 * Integration::SLOW) { redis.zcard("dead") == 1 }
    assert_dead_verbatim([raw])
    wait_for("the dead process unregistered", 5) {
      !redis.smembers("winch:wip").include?("#{dead_id}\ndefault")
    }
    assert_equal 0, redis.llen(wip_key(dead_id))
    assert_nothing_left(identity)
    assert_equal 1, errors_naming_the_limit(w).size, w.log
    jid = push_echo("replies", "after")
    wait_reply(jid)
    assert_clean_exit stop_and_stats(w).first
  end
end
