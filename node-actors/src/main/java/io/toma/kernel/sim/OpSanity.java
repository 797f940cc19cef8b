package io.toma.kernel.sim;

import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import java.util.ArrayList;
import java.util.List;

/**
 * The minimum the simulated kernel itself refuses before touching anything: names that could not
 * be a configfs directory or a dm device name. Full validation (prefixes, NQN format, table
 * arguments) belongs to the callers' validation, in front of any backend.
 */
final class OpSanity {
  private OpSanity() {}

  static void check(KernelOp op) throws KernelException {
    List<String> names = new ArrayList<>();
    if (op instanceof KernelOp.DmCreate o) {
      names.add(o.name());
    } else if (op instanceof KernelOp.DmReload o) {
      names.add(o.name());
    } else if (op instanceof KernelOp.DmSuspend o) {
      names.add(o.name());
    } else if (op instanceof KernelOp.DmResume o) {
      names.add(o.name());
    } else if (op instanceof KernelOp.DmRemove o) {
      names.add(o.name());
    } else if (op instanceof KernelOp.HostCreate o) {
      names.add(o.hostNqn());
    } else if (op instanceof KernelOp.HostRemove o) {
      names.add(o.hostNqn());
    } else if (op instanceof KernelOp.SubsystemCreate o) {
      names.add(o.nqn());
    } else if (op instanceof KernelOp.SubsystemRemove o) {
      names.add(o.nqn());
    } else if (op instanceof KernelOp.SubsystemAllowHost o) {
      names.add(o.nqn());
      names.add(o.hostNqn());
    } else if (op instanceof KernelOp.SubsystemDisallowHost o) {
      names.add(o.nqn());
      names.add(o.hostNqn());
    } else if (op instanceof KernelOp.NamespaceCreate o) {
      names.add(o.nqn());
    } else if (op instanceof KernelOp.PortLinkSubsystem o) {
      names.add(o.nqn());
    } else if (op instanceof KernelOp.PortUnlinkSubsystem o) {
      names.add(o.nqn());
    } else if (op instanceof KernelOp.Connect o) {
      names.add(o.connection().subsystemNqn());
      names.add(o.connection().hostNqn());
    } else if (op instanceof KernelOp.Disconnect o) {
      names.add(o.subsystemNqn());
    }
    for (String name : names) {
      if (name == null || name.isBlank() || name.contains("/") || name.chars().anyMatch(Character::isWhitespace)
          || name.equals(".") || name.equals("..")) {
        throw new KernelException("invalid name \"" + name + "\" in " + op + ": Invalid argument");
      }
    }
  }
}
