//! stub
pub struct Route;
pub struct Router;
