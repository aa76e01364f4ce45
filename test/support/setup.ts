import { Testing } from 'cdktf';
// Brings the global type declarations of cdktf's jest matchers into the program.
import 'cdktf/lib/testing/adapters/jest';

Testing.setupJest();
