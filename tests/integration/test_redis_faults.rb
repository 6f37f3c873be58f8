# Redis faults: down at start, restarted under an idle worker, clients killed. winch logs an
# outage once (not once per attempt), keeps trying, and goes on with jobs when Redis is back.
# Each test has a redis-server of its own on a port that stays the same across restarts.
require_relative "helper"

class TestRedisFaults < Integration::Test
  OUTAGE = /unreachable/
  RECOVERY = /reachable again/

  # Lines of the worker's log about the outage and about the recovery.
  def outage_lines(w)
    [w.log.lines.grep(OUTAGE), w.log.lines.grep(RECOVERY)]
  end

  def echo_round_trip(r, label, timeout: 15)
    jid = push_echo("replies", label, r: r)
    reply = JSON.parse(wait_reply(jid, r: r, timeout: timeout * Integration::SLOW))
    assert_equal [jid, label], reply["args"]
  end

  def test_redis_down_at_start_then_term
    server = redis_server(start: false)
    w = spawn_winch("-c", "2", "-t", "1", url: server.url)
    sleep 2.5
    assert w.alive?, "winch keeps running without Redis:\n#{w.log}"
    down, = outage_lines(w)
    assert_equal 1, down.size, "the outage is logged once, not per attempt:\n#{w.log}"
    assert_match(/127\.0\.0\.1:#{server.port}/, down[0], "the line says where Redis was expected")
    t = Harness.monotonic
    w.signal("TERM")
    status = w.wait_exit(15 * Integration::SLOW)
    elapsed = Harness.monotonic - t
    assert_clean_exit status, "winch, stopped while Redis is down (exited after #{elapsed.round(1)} s)"
    assert_operator elapsed, :<, 5 * Integration::SLOW, "TERM with Redis down does not hang"
  end

  def test_redis_down_at_start_then_up
    server = redis_server(start: false)
    w = spawn_winch("-c", "2", "-t", "1", "--beat-interval", "0.5", url: server.url)
    sleep 2
    assert w.alive?
    server.start
    r = server.client
    identity = wait_registered(w, r: r, timeout: 15 * Integration::SLOW)
    refute_nil identity
    echo_round_trip(r, "first job after Redis came up")
    down, up = outage_lines(w)
    assert_equal 1, down.size, "one outage line:\n#{w.log}"
    assert_equal 1, up.size, "one recovery line:\n#{w.log}"
    status, processed, failed = stop_and_stats(w, r: r)
    assert_clean_exit status
    assert_equal [1, 0], [processed, failed]
  end

  def test_redis_restarted_while_idle
    server = redis_server
    r = server.client
    w, identity = start_winch("-c", "2", r: r, url: server.url)
    echo_round_trip(r, "before the restart")
    server.shutdown
    sleep 2.5 # several reconnect attempts
    assert w.alive?
    server.start
    r = server.client
    echo_round_trip(r, "after the restart")
    wait_for("re-registered after the restart", 5) { r.smembers("processes").include?(identity) }
    down, up = outage_lines(w)
    assert_equal 1, down.size, "the outage is logged once, not per attempt:\n#{w.log}"
    assert_equal 1, up.size, "one recovery line:\n#{w.log}"
    assert_equal [], log_lines(w, "ERROR"), "an idle worker loses nothing, so no errors"
  end

  def test_client_kill_type_normal
    server = redis_server
    r = server.client
    w, identity = start_winch("-c", "2", r: r, url: server.url)
    echo_round_trip(r, "before")
    killed = r.call("CLIENT", "KILL", "TYPE", "normal")
    assert_operator killed, :>=, 2, "winch's connections were killed too"
    r = server.client
    echo_round_trip(r, "after")
    assert w.alive?
    assert_includes r.smembers("processes"), identity
  end

  # A job running while its connections are killed still gets its reply out.
  def test_client_kill_while_a_job_runs
    server = redis_server
    r = server.client
    w, = start_winch("-c", "2", r: r, url: server.url)
    jid, = push_job("Winch::Sleep", [1000, "replies", "survived"], r: r)
    wait_for("the job to start", 5) { w.log.include?("jid=#{jid}") }
    r.call("CLIENT", "KILL", "TYPE", "normal")
    r = server.client
    reply = JSON.parse(wait_reply(jid, r: r, timeout: 10 * Integration::SLOW))
    assert_equal [jid, "survived"], reply["args"]
    echo_round_trip(r, "and the next one")
    status, processed, failed = stop_and_stats(w, r: r)
    assert_clean_exit status
    assert_equal [2, 0], [processed, failed]
  end
end
