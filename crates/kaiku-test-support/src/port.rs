use std::net::TcpListener;

use crate::error::{Result, TestSupportError};

/// A TCP port on 127.0.0.1 that was free a moment ago: the OS picks it for a listener on port 0,
/// and the listener is closed again before returning.
///
/// Another process may grab the port before the caller binds it; the server starters here retry
/// with a fresh port when that happens.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(TestSupportError::io("bind 127.0.0.1:0 to find a free port"))?;
    let addr = listener.local_addr().map_err(TestSupportError::io(
        "read the address of a listener on 127.0.0.1:0",
    ))?;
    Ok(addr.port())
}
