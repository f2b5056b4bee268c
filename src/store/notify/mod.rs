//! Notifications: the inbox ([`inbox`]), webhook endpoints ([`endpoints`]) and the outbox of
//! deliveries ([`outbox`]).

pub mod digest;
mod endpoints;
mod inbox;
mod outbox;

pub use endpoints::*;
pub use inbox::*;
pub use outbox::*;
