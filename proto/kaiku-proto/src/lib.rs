#![doc = include_str!("../README.md")]

pub mod survey {
    pub mod v1 {
        tonic::include_proto!("kaiku.survey.v1");
    }
}

pub mod intake {
    pub mod v1 {
        tonic::include_proto!("kaiku.intake.v1");
    }
}

pub mod analytics {
    pub mod v1 {
        tonic::include_proto!("kaiku.analytics.v1");
    }
}

pub mod handling {
    pub mod v1 {
        tonic::include_proto!("kaiku.handling.v1");
    }
}

pub mod events {
    pub mod v1 {
        tonic::include_proto!("kaiku.events.v1");
    }
}

/// Encoded descriptors of every Kaiku contract, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("kaiku_descriptor");
