//! What a request does once its handler has extracted it, where that is more than one store
//! call: the handlers in `routes` stay thin and call these.

pub(crate) mod certificates;
pub(crate) mod openapi;
