# Process signals: TERM/INT (stop, requeue what still runs, leave, exit 0), a second TERM,
# TSTP (quiet), TTIN (dump the running jobs), HUP (reopen --logfile).
require_relative "helper"

class TestSignals < Integration::Test
  def wait_running(w, jid, identity)
    wait_for("job #{jid} to start", 10) { w.log.lines.any? { |l| l.include?("jid=#{jid}") && l.include?(" INFO: start") } }
    wait_for("job #{jid} in #{identity}:work", 5) {
      redis.hvals("#{identity}:work").any? { |v| JSON.parse(v).dig("payload").to_s.include?(jid) }
    }
  end

  def term_requeues(signal)
    w, identity = start_winch("-c", "2", "-t", "1")
    jid, raw = push_job("Winch::Sleep", [5000, "replies", "late"])
    wait_running(w, jid, identity)
    _, waiting_raw = push_job("Winch::Noop", ["queued behind"], queue: "other")
    t = Harness.monotonic
    w.signal(signal)
    status = w.wait_exit(10 * Integration::SLOW)
    elapsed = Harness.monotonic - t
    assert_clean_exit status
    assert_operator elapsed, :<, 2.5 * Integration::SLOW, "-t 1: exits within about 2 s"
    assert_equal raw, redis.lindex("queue:default", -1), "the job's exact bytes, next to be popped"
    assert_equal 1, redis.llen("queue:default"), "pushed back once"
    assert_equal [waiting_raw], redis.lrange("queue:other", 0, -1), "a queue it does not fetch is untouched"
    refute_includes redis.smembers("processes"), identity, "left the process set"
    assert_equal 0, redis.exists("#{identity}:work"), "<identity>:work is gone"
    assert_equal 0, redis.zcard("retry"), "an interrupted job is not a failure to retry"
    assert_equal 0, redis.zcard("dead")
    assert_equal 0, redis.llen("queue:replies"), "the job did not finish"
    w
  end

  def test_term_requeues_a_running_job_byte_for_byte
    term_requeues("TERM")
  end

  def test_int_stops_like_term
    term_requeues("INT")
  end

  def test_term_lets_a_short_job_finish
    w, identity = start_winch("-c", "2", "-t", "5")
    jid, = push_job("Winch::Sleep", [700, "replies", "finished"])
    wait_running(w, jid, identity)
    w.signal("TERM")
    status = w.wait_exit(10 * Integration::SLOW)
    assert_clean_exit status
    reply = redis.lindex("queue:replies", 0)
    refute_nil reply, "the job finished"
    assert_equal [jid, "finished"], JSON.parse(reply)["args"]
    assert_equal 0, redis.llen("queue:default"), "a finished job is not pushed back"
    assert_equal ["1", "0"], [redis.get("stat:processed"), redis.get("stat:failed")], "stats flushed at exit"
  end

  def test_a_second_term_shortens_the_wait
    w, identity = start_winch("-c", "2", "-t", "20")
    jid, raw = push_job("Winch::Sleep", [5000])
    wait_running(w, jid, identity)
    t = Harness.monotonic
    w.signal("TERM")
    sleep 0.3
    assert w.alive?, "still waiting for the job after the first TERM"
    w.signal("TERM")
    status = w.wait_exit(10 * Integration::SLOW)
    elapsed = Harness.monotonic - t
    assert_clean_exit status
    assert_operator elapsed, :<, 2.0 * Integration::SLOW, "the second TERM cuts the 20 s wait short"
    assert_equal [raw], redis.lrange("queue:default", 0, -1), "still requeued, byte for byte"
    refute_includes redis.smembers("processes"), identity
    assert_equal 0, redis.exists("#{identity}:work")
  end

  def test_tstp_quiets
    w, identity = start_winch("-c", "2", "-t", "5")
    jid, = push_job("Winch::Sleep", [1500, "replies", "done"])
    wait_running(w, jid, identity)
    assert_equal "false", redis.hget(identity, "quiet")
    w.signal("TSTP")
    wait_for("quiet=true in the identity hash", 5) { redis.hget(identity, "quiet") == "true" }
    new_jid, new_raw = push_job("Winch::Echo", ["replies", "too late"])
    reply = wait_for("the running job to finish", 10) { redis.lindex("queue:replies", 0) }
    assert_equal [jid, "done"], JSON.parse(reply)["args"], "the running job finishes"
    sleep 1.0
    assert_equal [new_raw], redis.lrange("queue:default", 0, -1), "no new job is taken, and it is kept intact"
    assert_equal 1, redis.llen("queue:replies"), "the new job did not run"
    assert w.alive?, "quiet is not stop"
    assert_includes redis.smembers("processes"), identity, "a quiet process stays registered"
    assert_equal "true", redis.hget(identity, "quiet")
    assert_equal "0", redis.hget(identity, "busy")
    refute_nil new_jid
    status = w.stop(timeout: 10)
    assert_clean_exit status
    assert_equal [new_raw], redis.lrange("queue:default", 0, -1)
  end

  def test_ttin_logs_each_running_job
    w, identity = start_winch("-c", "3", "-t", "1")
    jids = 2.times.map { push_job("Winch::Sleep", [4000]).first }
    jids.each { |jid| wait_running(w, jid, identity) }
    before = w.log.lines.size
    w.signal("TTIN")
    lines = wait_for("a dump line per running job", 5) {
      new = w.log.lines.drop(before)
      new if jids.all? { |jid| new.any? { |l| l.include?(jid) } }
    }
    jids.each do |jid|
      mine = lines.select { |l| l.include?(jid) }
      assert_equal 1, mine.size, "one line for #{jid}:\n#{lines.join}"
      assert_includes mine[0], "Winch::Sleep", "the line names the class"
    end
    assert w.alive?, "TTIN does not stop the worker"
  end

  def test_hup_reopens_the_logfile
    path = logfile
    w, = start_winch("-c", "2", "--logfile", path)
    wait_for("the log file", 5) { File.exist?(path) && File.size(path) > 0 }
    assert_equal "", w.log, "nothing on stderr with --logfile"
    File.rename(path, "#{path}.1")
    w.signal("HUP")
    wait_for("a new log file after HUP", 5) { File.exist?(path) }
    jid = push_echo("replies", "after HUP")
    wait_reply(jid)
    wait_for("the job's lines in the new file", 5) { File.read(path).include?(jid) }
    refute_includes File.read("#{path}.1"), jid, "the renamed file gets nothing more"
    assert w.alive?
    status = w.stop(timeout: 10)
    assert_clean_exit status
    assert_match(/stopped/, File.read(path).lines.last.to_s, "the last line goes to the new file")
  end
end
