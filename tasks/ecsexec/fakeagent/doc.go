// Package fakeagent is a fake of the agent side of a Session Manager data
// channel, served on 127.0.0.1, for tests that cannot reach AWS: moto has
// no ecs:ExecuteCommand. A test's fake ExecuteCommand calls
// (*Agent).NewSession(command) and returns the session it gets, whose
// stream URL points at the agent.
//
// The agent checks the token, performs the handshake (or skips it, as ECS
// Exec does without a KMS key), acknowledges and reorders input the way the
// SSM agent does (including its quirks: input before the handshake
// completes is acknowledged and dropped, input before the pty is ready is
// not acknowledged), runs the session's command in a Container, sends the
// output in 1024-byte frames with sequence numbers, resends what is not
// acknowledged, waits for acknowledgements as PrepareToCloseChannel does,
// and sends channel_closed. Exec runs the command for real in a pty, as the
// agent does in a container, so tests see the genuine "\r\n" translation
// and input echo.
//
// Its Modes misbehave in every way the client must survive: oversized,
// garbage and text frames, bad digests, out-of-order, duplicated and
// missing sequence numbers, never acknowledging, never completing the
// handshake, asking for KMS encryption, never closing, silence, and a
// dropped connection.
package fakeagent
